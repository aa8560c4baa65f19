import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** A child process of the cluster test, its output appended to `<logDir>/<name>.log`. */
export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  /** Sends the signal (SIGTERM: a graceful stop; SIGKILL: a crash) and waits until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** The end of its log, for a failure message. */
  tail(lines?: number): string;
}

export function startProcess(name: string, command: string, args: string[], env: NodeJS.ProcessEnv, logDir: string): ManagedProcess {
  const logFile = path.join(logDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  const child = spawn(command, args, { env, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    name,
    child,
    async stop(signal = 'SIGTERM') {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      // A graceful stop that hangs ends as a crash would.
      const force = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(force);
    },
    tail(lines = 20) {
      return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    },
  };
}

/** Polls `url` until it answers 2xx; fails with the process's log when it exits or time runs out. */
export async function waitUntilHealthy(process: ManagedProcess, url: string, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (process.child.exitCode !== null || process.child.signalCode !== null) {
      throw new Error(`${process.name} exited (${process.child.exitCode ?? process.child.signalCode}):\n${process.tail()}`);
    }
    const ok = await fetch(url, { signal: AbortSignal.timeout(2_000) }).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`${process.name} not healthy at ${url} after ${timeoutMs} ms:\n${process.tail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

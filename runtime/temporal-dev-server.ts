import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { JOURNEY_SEARCH_ATTRIBUTES } from '../workflows/contract';
import { connectTemporal } from './temporal';

const ROOT = path.resolve(__dirname, '..');

/** The `temporal` CLI: from PATH or .tools/bin, else built by scripts/provision-temporal.sh. */
export function provisionTemporalCli(): string {
  return execFileSync(path.join(ROOT, 'scripts', 'provision-temporal.sh'), {
    encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'],
  }).trim();
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export interface DevServerOptions {
  binary?: string;
  /** SQLite file for Temporal's state; the server keeps workflows across restarts. */
  dbFile: string;
  port?: number;
  /** Web UI port; `false` runs headless. */
  uiPort?: number | false;
  ip?: string;
  logLevel?: 'debug' | 'info' | 'warn' | 'error';
  /** Where the server's output goes; defaults to discarding it. */
  output?: 'inherit' | 'ignore';
}

export interface DevServer {
  address: string;
  uiUrl?: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

/** Starts `temporal server start-dev` with the journey search attributes registered. */
export async function startTemporalDevServer(options: DevServerOptions): Promise<DevServer> {
  const binary = options.binary ?? provisionTemporalCli();
  const ip = options.ip ?? '127.0.0.1';
  const port = options.port ?? (await freePort());
  const args = [
    'server', 'start-dev', '--ip', ip, '--port', String(port),
    '--db-filename', options.dbFile, '--sqlite-pragma', 'journal_mode=WAL',
    '--log-level', options.logLevel ?? 'warn',
    ...JOURNEY_SEARCH_ATTRIBUTES.flatMap((k) => ['--search-attribute', `${k.name}=${k.type === 'INT' ? 'Int' : 'Keyword'}`]),
  ];
  if (options.uiPort === false) args.push('--headless');
  else if (options.uiPort !== undefined) args.push('--ui-port', String(options.uiPort));
  const child = spawn(binary, args, { stdio: ['ignore', options.output ?? 'ignore', options.output ?? 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const address = `${ip}:${port}`;
  try {
    await Promise.race([
      connectTemporal(address, 60_000).then((c) => c.close()),
      exited.then(() => { throw new Error(`temporal server exited early (code ${child.exitCode})`); }),
    ]);
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
  const uiUrl = options.uiPort === false ? undefined : `http://${ip}:${options.uiPort ?? port + 1000}`;
  return {
    address,
    uiUrl,
    process: child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

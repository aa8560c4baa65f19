import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import ts from 'typescript';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { bundleWorkflowCode } from '@temporalio/worker';
import { startHarness, TEST_SECRETS, uniqueEmail } from '../test/support/harness';
import { testEnvironment } from '../test/support/env';
import { publishWaitJourney, type BenchContext } from './enrolment';
import { log, pool, rssOf, waitFor } from './support';

const ROOT = path.resolve(__dirname, '..');

/** The worker's process settings as docker-compose.yml deploys it (see README, Operations). */
const DEPLOYED_WORKER_ENV = { NODE_OPTIONS: '--max-old-space-size=192', MALLOC_ARENA_MAX: '2' };

/** Starts a process and resolves once a stdout line matches `ready`; `onLine` sees every line. */
async function startProcess(script: string, env: Record<string, string>, ready: RegExp, onLine: (line: string) => void = () => undefined): Promise<ChildProcess> {
  const child = spawn(process.execPath, script.endsWith('.ts') ? ['--import', 'tsx', script] : [script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, ...env } });
  await new Promise<void>((resolve, reject) => {
    let buffered = '';
    child.once('exit', (code) => reject(new Error(`${script} exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop()!;
      for (const line of lines) {
        onLine(line);
        if (ready.test(line)) resolve();
      }
    });
  });
  return child;
}

/**
 * RSS of the worker process alone (`dist/bin/worker.js`, as deployed, with a pre-built bundle) with
 * `n` enrolments asleep in a one-hour wait, against a plain Temporal worker process (SDK defaults)
 * with `n` workflows asleep in `sleep('1 hour')`.
 */
export async function workerMemory({ h: main }: BenchContext, n: number): Promise<{ ours: number; raw: number; oursIdle: number; rawIdle: number }> {
  const env = testEnvironment();
  const h = await startHarness({ worker: false });
  // As deployed: compiled JavaScript (npm run build), no TypeScript loader.
  execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, stdio: 'inherit' });
  const ourWorker = await startProcess(path.join(ROOT, 'dist', 'bin', 'worker.js'), {
    NODE_ENV: 'production', DATABASE_URL: env.databaseUrl, TEMPORAL_ADDRESS: env.temporalAddress, TASK_QUEUE: h.taskQueue,
    SMTP_URL: h.smtp.url, WORKFLOW_BUNDLE_PATH: env.workflowBundlePath, SIGNING_SECRET: TEST_SECRETS.signing,
    WEBHOOK_SIGNING_SECRET: TEST_SECRETS.webhook, PUBLIC_URL: h.baseUrl, LOG_LEVEL: 'info', TEMPORAL_METRICS_PORT: '0', WORKER_METRICS_PORT: '0', ...DEPLOYED_WORKER_ENV,
  }, /worker running/);
  let ours = 0;
  let oursIdle = 0;
  try {
    oursIdle = rssOf(ourWorker.pid!);
    const key = await publishWaitJourney(h);
    for (let done = 0; done < n; done += 1000) {
      const items = Array.from({ length: Math.min(1000, n - done) }, (_, i) => ({ contact: { email: uniqueEmail(`z${done + i}`) } }));
      const res = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items });
      if (res.status !== 200 || res.body.failed > 0) throw new Error(`bulk enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    }
    await waitFor(async () => {
      const { rows } = await h.database.db.execute(sql`select count(*)::int as n from enrolments where journey_key = ${key} and current_step = 'w'`) as unknown as { rows: Array<{ n: number }> };
      return rows[0]!.n >= n;
    });
    await new Promise((r) => setTimeout(r, 2000));
    ours = rssOf(ourWorker.pid!);
    log('nurture worker RSS', { idle: oursIdle, asleep: ours });
  } finally {
    ourWorker.kill('SIGTERM');
    await h.stop();
  }

  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const bundlePath = path.join(tmpdir(), `nurture-bench-baseline-${process.pid}.js`);
  writeFileSync(bundlePath, bundle.code);
  const queue = `${main.taskQueue}-sleepers`;
  let asleep = 0;
  // Compiled to JavaScript as well, so neither side pays for a TypeScript loader.
  const rawScript = path.join(ROOT, 'dist', 'bench', 'baseline-worker.js');
  mkdirSync(path.dirname(rawScript), { recursive: true });
  writeFileSync(rawScript, ts.transpileModule(readFileSync(path.join(__dirname, 'baseline-worker.ts'), 'utf8'), {
    compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
  }).outputText);
  const rawWorker = await startProcess(rawScript, {
    BENCH_TEMPORAL_ADDRESS: env.temporalAddress, BENCH_TASK_QUEUE: queue, BENCH_BUNDLE: bundlePath,
  }, /^ready$/, (line) => { const m = /^asleep (\d+)$/.exec(line); if (m) asleep = Number(m[1]); });
  let raw = 0;
  let rawIdle = 0;
  try {
    rawIdle = rssOf(rawWorker.pid!);
    const stamp = Date.now();
    await pool(n, 16, (i) => main.client.workflow.start('sleepingWorkflow', { taskQueue: queue, workflowId: `bench-sleep-${stamp}-${i}` }));
    await waitFor(() => asleep >= n);
    await new Promise((r) => setTimeout(r, 2000));
    raw = rssOf(rawWorker.pid!);
    log('baseline worker RSS', { idle: rawIdle, asleep: raw });
  } finally {
    rawWorker.kill('SIGTERM');
  }
  return { ours, raw, oursIdle, rawIdle };
}

import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { testEnvironment } from './env';
import { TEST_SECRETS, TEST_WEBHOOK_ALLOWED_HOSTS, type Harness } from './harness';

const ROOT = path.resolve(__dirname, '..', '..');

/**
 * The worker as it runs in production (bin/worker.ts, its own process, default cache) on the
 * harness's task queue, so a test can kill it with SIGKILL and start another.
 */
export function startWorkerProcess(h: Harness, options: { temporalAddress?: string; env?: Record<string, string> } = {}): ChildProcess {
  const env = testEnvironment();
  return spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'worker.ts')], {
    cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'],
    env: {
      ...process.env, NODE_ENV: 'test', DATABASE_URL: env.databaseUrl, TEMPORAL_ADDRESS: options.temporalAddress ?? env.temporalAddress,
      TASK_QUEUE: h.taskQueue, SMTP_URL: h.smtp.url, WORKFLOW_BUNDLE_PATH: env.workflowBundlePath, SIGNING_SECRET: TEST_SECRETS.signing,
      WEBHOOK_SIGNING_SECRET: TEST_SECRETS.webhook, WEBHOOK_ALLOWED_HOSTS: TEST_WEBHOOK_ALLOWED_HOSTS.join(','), EMAIL_FREQUENCY_CAP: 'off', LOG_LEVEL: 'error', PUBLIC_URL: h.baseUrl,
      TEMPORAL_METRICS_PORT: '0', WORKER_METRICS_PORT: '0', EMAIL_RATE_LIMIT_PER_SECOND: '1000', DATA_DIR: path.join(ROOT, '.data', 'test-worker'),
      ...options.env,
    },
  });
}

/** Kills a worker process with SIGKILL and waits until it is gone. */
export async function killWorkerProcess(worker: ChildProcess | undefined): Promise<void> {
  if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
  const gone = new Promise((resolve) => worker.once('exit', resolve));
  worker.kill('SIGKILL');
  await gone;
}

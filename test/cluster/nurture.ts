import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { startProcess, waitUntilHealthy, type ManagedProcess } from './processes';

const ROOT = path.resolve(__dirname, '..', '..');

/** One build of Nurture as deployed: compiled JavaScript and a pre-built workflow bundle. */
export interface Release {
  dir: string;
  bundle: string;
}

/** `npm run build` (to dist/), as the Dockerfile's build stage does. */
export function buildDist(): void {
  try {
    execFileSync('npm', ['run', '--silent', 'build'], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (err) {
    const { stdout, stderr } = err as { stdout?: string; stderr?: string };
    throw new Error(`npm run build failed:\n${`${stdout ?? ''}${stderr ?? ''}`.slice(-4000)}`);
  }
}

/**
 * A release folder of its own (a copy of dist/ inside the repository, so node_modules resolve as
 * they do beside dist/) with the workflow bundle built by its own bin/bundle-workflows.js, as the
 * image does: a worker rolled to another release runs other files.
 */
export function makeRelease(dir: string): Release {
  cpSync(path.join(ROOT, 'dist'), dir, { recursive: true });
  const bundle = path.join(dir, 'workflow-bundle.js');
  execFileSync(process.execPath, [path.join(dir, 'bin', 'bundle-workflows.js'), bundle], { stdio: ['ignore', 'ignore', 'inherit'] });
  return { dir, bundle };
}

/** The key that signs audit checkpoints (required in production), one per test process. */
const AUDIT_CHECKPOINT_KEY = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** What every Nurture process of the cluster shares, as an operator's env_file would hold it. */
export interface Deployment {
  temporalAddress: string;
  taskQueue: string;
  smtpUrl: string;
  publicUrl: string;
  dataDir: string;
  logDir: string;
  secrets: { signing: string; webhook: string };
}

function environment(d: Deployment, release: Release, databaseUrl: string, own: Record<string, string>): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH, HOME: process.env.HOME,
    NODE_ENV: 'production', DATABASE_URL: databaseUrl, TEMPORAL_ADDRESS: d.temporalAddress, TASK_QUEUE: d.taskQueue,
    SMTP_URL: d.smtpUrl, PUBLIC_URL: d.publicUrl, SIGNING_SECRET: d.secrets.signing, WEBHOOK_SIGNING_SECRET: d.secrets.webhook,
    WEBHOOK_ALLOWED_HOSTS: '127.0.0.1', EMAIL_FREQUENCY_CAP: 'off', EMAIL_RATE_LIMIT_PER_SECOND: '1000',
    RATE_LIMIT_PER_MINUTE: '100000', WORKFLOW_BUNDLE_PATH: release.bundle, DATA_DIR: d.dataDir, LOG_LEVEL: 'warn',
    AUDIT_CHECKPOINT_KEY,
    TEMPORAL_METRICS_PORT: '0', HOST: '127.0.0.1', DATABASE_POOL_SIZE: '5', ...own,
  };
}

/** Runs one of the release's commands to completion (migrate, create-key) and returns its stdout. */
export function runCommand(d: Deployment, release: Release, databaseUrl: string, script: string, args: string[] = [], own: Record<string, string> = {}): string {
  return execFileSync(process.execPath, [path.join(release.dir, 'bin', script), ...args], {
    env: environment(d, release, databaseUrl, own), encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'],
  });
}

/** `node dist/bin/api.js` on its own port; resolves once /readyz answers. */
export async function startApi(d: Deployment, release: Release, databaseUrl: string, name: string, port: number): Promise<ManagedProcess> {
  const api = startProcess(name, process.execPath, [path.join(release.dir, 'bin', 'api.js')], environment(d, release, databaseUrl, { PORT: String(port) }), d.logDir);
  await waitUntilHealthy(api, `http://127.0.0.1:${port}/readyz`);
  return api;
}

/** `node dist/bin/worker.js`; resolves once its /healthz (on WORKER_METRICS_PORT) says it runs. */
export async function startWorker(d: Deployment, release: Release, databaseUrl: string, name: string, healthPort: number): Promise<ManagedProcess> {
  const env = environment(d, release, databaseUrl, { WORKER_METRICS_PORT: String(healthPort), PORT: '0' });
  const worker = startProcess(name, process.execPath, [path.join(release.dir, 'bin', 'worker.js')], env, d.logDir);
  await waitUntilHealthy(worker, `http://127.0.0.1:${healthPort}/healthz`);
  return worker;
}

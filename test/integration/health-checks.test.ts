import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { freePort } from '../../runtime/temporal-dev-server';
import { eventually, startHarness, type Harness } from '../support/harness';
import { killWorkerProcess, startWorkerProcess } from '../support/worker-process';

const ROOT = path.resolve(__dirname, '..', '..');
const run = promisify(execFile);

/** bin/healthcheck.ts as a container runs it: exit code 0 or 1, with the process's environment. */
async function healthcheck(role: string, env: Record<string, string>): Promise<number> {
  return run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'bin', 'healthcheck.ts'), role], {
    cwd: ROOT, env: { ...process.env, NODE_ENV: 'test', ...env },
  }).then(() => 0, (err: { code?: number }) => err.code ?? 1);
}

/**
 * The worker serves /healthz beside /metrics (on WORKER_METRICS_PORT): 200 while its Temporal
 * workers run. The containers' health checks ask the API's /readyz and the worker's /healthz.
 */
describe('health checks', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ worker: false }); });
  afterAll(() => h?.stop());

  it('a running worker answers /healthz and passes `healthcheck.js worker`; a gone one fails it', async () => {
    const port = String(await freePort());
    const worker = startWorkerProcess(h, { env: { WORKER_METRICS_PORT: port } });
    try {
      const answer = await eventually(async () => {
        const res = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        return res?.status === 200 ? await res.json() : undefined;
      }, 60_000);
      expect(answer).toEqual({ status: 'ok', worker: 'RUNNING' });
      expect(await healthcheck('worker', { WORKER_METRICS_PORT: port })).toBe(0);
    } finally {
      await killWorkerProcess(worker);
    }
    expect(await healthcheck('worker', { WORKER_METRICS_PORT: port })).toBe(1);
  });

  it('`healthcheck.js api` passes while the API is ready', async () => {
    expect(await healthcheck('api', { PORT: new URL(h.baseUrl).port })).toBe(0);
    expect(await healthcheck('api', { PORT: String(await freePort()) })).toBe(1);
  });
});

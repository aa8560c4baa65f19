import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { buildApp } from '../../api/app';
import type { ApiDeps } from '../../api/deps';
import { startHarness, TEST_SECRETS, type Harness } from './harness';

/** A second API over the harness's database and Temporal, with its own limits (and logger). */
export async function apiWith(h: Harness, extra: Partial<ApiDeps>, logger = pino({ level: 'silent' })): Promise<{ url: string; app: FastifyInstance }> {
  let url = '';
  const app = await buildApp({
    database: h.database, temporal: h.client, taskQueue: h.taskQueue, namespace: 'default', temporalUiUrl: 'http://127.0.0.1:8233',
    secrets: TEST_SECRETS, publicUrl: () => url, ...extra,
  }, logger);
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  return { url, app };
}

/** A harness without a worker, and the extra APIs a test starts over it (closed after the describe). */
export function harnessWithApis() {
  let h: Harness | undefined;
  const apps: FastifyInstance[] = [];
  beforeAll(async () => { h = await startHarness({ worker: false }); });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await h?.stop();
  });
  return {
    harness: () => h!,
    async start(extra: Partial<ApiDeps>, logger?: pino.Logger) {
      const api = await apiWith(h!, extra, logger);
      apps.push(api.app);
      return api;
    },
  };
}

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { metricsRegistry } from '../../services/lib/metrics';
import { metricsAllowed } from '../../runtime/metrics-access';
import type { RouteOptions } from '../deps';

const Check = z.object({ status: z.enum(['ok', 'unavailable']), checks: z.record(z.string(), z.enum(['ok', 'unavailable'])).optional() });

async function within<T>(ms: number, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms); });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Liveness and readiness for load balancers and orchestrators (outside /v1). */
export const opsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get('/healthz', { schema: { tags: ['ops'], summary: 'The process is alive', response: { 200: Check } } },
    async () => ({ status: 'ok' as const }));

  app.get('/metrics', {
    schema: { tags: ['ops'], summary: 'Prometheus metrics (Nurture and, where a worker runs here, the Temporal SDK); with METRICS_TOKEN set, only for `Authorization: Bearer <METRICS_TOKEN>`', hide: false },
  }, async (request, reply) => {
    if (!metricsAllowed(request.headers.authorization, deps.metricsToken)) {
      return reply.code(401).header('www-authenticate', 'Bearer').send({ error: { code: 'unauthenticated', message: 'Send the metrics token as "Authorization: Bearer <METRICS_TOKEN>"' } });
    }
    let text = await metricsRegistry.metrics();
    if (deps.temporalMetricsUrl) {
      text += await fetch(deps.temporalMetricsUrl, { signal: AbortSignal.timeout(2_000) }).then((r) => r.text()).catch(() => '');
    }
    return reply.type(metricsRegistry.contentType).send(text);
  });

  app.get('/readyz', {
    schema: { tags: ['ops'], summary: 'PostgreSQL and Temporal answer', response: { 200: Check, 503: Check } },
  }, async (request, reply) => {
    // Each check says only whether its dependency answered: an error's text (host names,
    // addresses, user names) goes to the log, never to whoever may call /readyz.
    const checks: Record<string, 'ok' | 'unavailable'> = {};
    const probe = async (name: string, fn: () => Promise<unknown>) => {
      try {
        await within(2_000, fn());
        checks[name] = 'ok';
      } catch (err) {
        request.log.warn({ err, dependency: name }, 'readiness check failed');
        checks[name] = 'unavailable';
      }
    };
    await Promise.all([
      probe('database', () => deps.database.ping()),
      probe('temporal', () => deps.temporal.workflowService.getSystemInfo({})),
    ]);
    const ok = Object.values(checks).every((c) => c === 'ok');
    return reply.code(ok ? 200 : 503).send({ status: ok ? 'ok' : 'unavailable', checks });
  });
};

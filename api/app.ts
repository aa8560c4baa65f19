import Fastify, { type FastifyBaseLogger, type FastifyInstance, type FastifyReply } from 'fastify';
import { serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { REDACT_PATHS, REDACTED, type Logger } from '../runtime/logger';
import type { ApiDeps } from './deps';
import { metrics, watchTasks } from '../services/lib/metrics';
import { taskCounts } from '../services/tasks/tasks';
import { registerAuth } from './auth';
import { PUBLIC_ROUTES, registerJsonParser, registerRequestLimits, requireJsonWrites } from './request-guards';
import { serializeRequest } from './log-redaction';
import { registerOpenApi } from './openapi';
import { registerSecurityHeaders } from './security-headers';
import { auditRoutes } from './routes/audit';
import { registerErrorHandling } from './errors';
import { contactRoutes } from './routes/contacts';
import { contactRightsRoutes } from './routes/contact-rights';
import { enrolmentRoutes } from './routes/enrolments';
import { emailFeedbackRoutes } from './routes/email-feedback';
import { emailRoutes } from './routes/emails';
import { eventRoutes } from './routes/events';
import { peopleRoutes } from './routes/people';
import { resultRoutes } from './routes/results';
import { taskFormRoutes } from './routes/task-form';
import { taskRoutes } from './routes/tasks';
import { testRunRoutes } from './routes/test-runs';
import { templateRoutes } from './routes/templates';
import { trackingRoutes } from './routes/tracking';
import { unsubscribeRoutes } from './routes/unsubscribe';
import { journeyRoutes } from './routes/journeys';
import { journeyReviewRoutes } from './routes/journey-reviews';
import { segmentRoutes } from './routes/segments';
import { opsRoutes } from './routes/ops';
import { processRoutes } from './routes/processes';
import { processScheduleRoutes } from './routes/process-schedules';
import { processPageRoutes } from './routes/process-pages';

/** The Fastify app: JSON API under /v1, ops endpoints and docs at the root. */
export async function buildApp(deps: ApiDeps, logger: Logger): Promise<FastifyInstance> {
  const app = Fastify({
    // Request lines log the URL with link tokens redacted; credentials in headers are censored.
    loggerInstance: logger.child({}, { serializers: { req: serializeRequest }, redact: { paths: REDACT_PATHS, censor: REDACTED } }) as FastifyBaseLogger,
    bodyLimit: 1024 * 1024,
    requestIdHeader: 'x-request-id',
    // Signed tokens in links (unsubscribe, tracking, task forms) are longer than the default 100.
    routerOptions: { maxParamLength: 4096 },
    // Which proxies' X-Forwarded-For to believe (TRUST_PROXY): per-address limits need the client's address.
    trustProxy: deps.trustProxy ?? false,
    // Errors raised before routing (bad URL encoding, over-long parameters) use the same JSON shape.
    frameworkErrors: (error, _request, reply) => {
      const status = error.statusCode && error.statusCode < 500 ? error.statusCode : 400;
      (reply as unknown as FastifyReply).code(status).header('x-content-type-options', 'nosniff').send({ error: { code: (error.code ?? 'bad_request').replace(/^FST_ERR_/, '').toLowerCase(), message: error.message } });
    },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  registerErrorHandling(app);
  registerSecurityHeaders(app);
  registerJsonParser(app);
  const failures = await registerRequestLimits(app, {
    perKey: deps.rateLimitPerMinute ?? 1200,
    publicPerAddress: deps.publicRateLimitPerMinute ?? 600,
    authFailuresPerAddress: deps.authFailureLimitPerMinute ?? 20,
  });
  registerAuth(app, deps.database.db, failures);
  requireJsonWrites(app);
  watchTasks(() => taskCounts(deps.database.db));
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.apiRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.apiDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
  });

  await registerOpenApi(app, deps);

  await app.register(opsRoutes, { deps });
  await app.register(unsubscribeRoutes, { deps });
  await app.register(trackingRoutes, { deps });
  await app.register(taskFormRoutes, { deps });
  await app.register(resultRoutes, { deps });
  await app.register(processPageRoutes, { deps });
  await app.register(async (v1) => {
    await v1.register(contactRoutes, { deps });
    await v1.register(contactRightsRoutes, { deps });
    await v1.register(journeyRoutes, { deps });
    await v1.register(enrolmentRoutes, { deps });
    await v1.register(eventRoutes, { deps });
    await v1.register(segmentRoutes, { deps });
    await v1.register(templateRoutes, { deps });
    await v1.register(emailFeedbackRoutes, { deps });
    await v1.register(emailRoutes, { deps });
    await v1.register(peopleRoutes, { deps });
    await v1.register(taskRoutes, { deps });
    await v1.register(auditRoutes, { deps });
    await v1.register(testRunRoutes, { deps });
    await v1.register(processRoutes, { deps });
    await v1.register(processScheduleRoutes, { deps });
    await v1.register(journeyReviewRoutes, { deps });
  }, { prefix: '/v1' });
  // Public routes are limited by their pattern: a renamed one must not drop out of its limit.
  const unlisted = PUBLIC_ROUTES.filter((url) => !app.hasRoute({ method: 'GET', url }));
  if (unlisted.length) throw new Error(`public routes not registered: ${unlisted.join(', ')}`);
  return app;
}

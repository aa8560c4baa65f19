import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { appendAudit } from '../../services/audit/records';
import { suppress } from '../../services/contacts/consent';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const Feedback = z.object({
  type: z.enum(['bounce', 'complaint']),
  email: z.email(),
  bounceType: z.enum(['hard', 'soft']).default('hard').describe('soft bounces are recorded, not suppressed'),
  messageId: z.string().max(998).optional(),
  source: z.string().max(200).default('provider webhook'),
});

/** Bounces and complaints from the email provider: hard bounces and complaints suppress the address. */
export const emailFeedbackRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.post('/email/feedback', {
    config: scopes.service,
    schema: {
      tags: ['email'], summary: 'Report a bounce or complaint', body: Feedback,
      response: { 202: z.object({ suppressed: z.boolean() }), ...errorResponses },
    },
  }, async (request, reply) => {
    const { type, email, bounceType, messageId, source } = request.body;
    const suppressed = type === 'complaint' || bounceType === 'hard';
    if (suppressed) await suppress(deps.database.db, email, type === 'complaint' ? 'complaint' : 'hard_bounce', source);
    await appendAudit(deps.database.db, {
      actor: 'provider', action: `email.${type}`, outcome: suppressed ? 'suppressed' : 'recorded',
      providerMessageId: messageId, details: { email: email.toLowerCase(), bounceType: type === 'bounce' ? bounceType : null, source },
    });
    return reply.code(202).send({ suppressed });
  });
};

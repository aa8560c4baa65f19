import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { recordProviderFeedback } from '../../services/email/feedback';
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

/**
 * Bounces and complaints from the email provider: hard bounces and complaints suppress the
 * address; a complaint is also the contact's denial of all email in the consent history.
 */
export const emailFeedbackRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.post('/email/feedback', {
    config: scopes.service,
    schema: {
      tags: ['email'], summary: 'Report a bounce or complaint', body: Feedback,
      description: 'A hard bounce or a complaint suppresses the address for every email; a complaint also records the contact\'s denial of email (topic `all`) in its consent history.',
      response: { 202: z.object({ suppressed: z.boolean() }), ...errorResponses },
    },
  }, async (request, reply) => {
    const { suppressed } = await recordProviderFeedback(deps.database.db, request.body);
    return reply.code(202).send({ suppressed });
  });
};

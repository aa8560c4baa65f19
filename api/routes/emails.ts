import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ConsentChangeSchema } from '../../services/contacts/schemas';
import { emailEvidence } from '../../services/email/evidence';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const Params = z.object({
  idempotencyKey: z.string().min(1).max(500).describe('the email step\'s key, `<workflow id>:<step id>:<visit>` (the idempotencyKey of its audit record)'),
});

const Evidence = z.object({
  idempotencyKey: z.string(),
  status: z.string().describe('sent, captured, skipped, unknown (an attempt died mid-send), sending or retry'),
  summary: z.string(),
  skipReason: z.string().nullable(),
  contactId: z.string().nullable(),
  enrolmentId: z.string().nullable(),
  stepId: z.string().nullable(),
  journey: z.object({ key: z.string(), version: z.number().int() }).nullable(),
  template: z.object({ key: z.string(), version: z.number().int() }).nullable(),
  category: z.string(),
  checks: z.record(z.string(), z.unknown()).nullable().describe('suppression, consent and frequency cap as checked just before the send'),
  consentRecord: ConsentChangeSchema.nullable(),
  transactionalReason: z.string().nullable(),
  providerMessageId: z.string().nullable(),
  checkedAt: z.string(),
  sentAt: z.string().nullable(),
  auditRecord: z.object({
    id: z.number().int(), chain: z.string().nullable(), seq: z.number().int().nullable(), hash: z.string().nullable(),
    action: z.string(), outcome: z.string(), at: z.string(),
  }).nullable(),
}).meta({ id: 'EmailEvidence' });

/** Proof per send: why an email was or was not sent, as it was decided. */
export const emailRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.get('/emails/:idempotencyKey/evidence', {
    config: scopes.admin,
    schema: {
      tags: ['audit'], summary: 'Why an email was or was not sent',
      description: 'The checks made just before the send (suppression, consent, frequency cap) as they were then, the consent history row '
        + 'that allowed (or refused) it or the transactional reason, template and journey versions, step, provider message id and time, '
        + 'and the step\'s audit record.',
      params: Params, response: { 200: Evidence, ...errorResponses },
    },
  }, async (request) => emailEvidence(deps.database.db, request.params.idempotencyKey) as Promise<z.infer<typeof Evidence>>);
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { eraseContact } from '../../services/contacts/erasure';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const IdParams = z.object({ id: z.uuid() });

const ErasureReport = z.object({
  contactId: z.uuid(),
  erasedAt: z.string(),
  firstTime: z.boolean().describe('false: the contact was erased before; this call made sure nothing had come back'),
  enrolmentsCancelled: z.array(z.uuid()),
  stillRunning: z.array(z.uuid()).describe('cancelled enrolments that had not ended in time: erase again once they have'),
  tables: z.record(z.string(), z.number()).describe('rows changed per table'),
  auditRecord: z.object({ id: z.number(), chain: z.string(), seq: z.number(), hash: z.string(), at: z.string() })
    .describe('the `contact.erased` record in the contact\'s audit chain (the first erasure\'s)'),
}).meta({ id: 'ErasureReport' });

/** A contact's rights over its data: erasure (Art. 17) and access (Art. 15). Admin keys only. */
export const contactRightsRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.post('/contacts/:id/erase', {
    config: scopes.admin,
    schema: {
      tags: ['contacts'], summary: 'Erase a contact (GDPR Art. 17): cancel its enrolments, remove its personal data, keep a tombstone',
      description: 'Idempotent. Running enrolments are cancelled; the contact\'s personal data is removed from every table '
        + '(contact fields, consents and their history, events, email addresses and content, task titles and decisions, '
        + 'enrolment request keys; a suppressed address is kept as its digest); the row stays as a tombstone (id, erasedAt), '
        + 'so references and audit chains hold. Afterwards the id is refused everywhere (410 `contact_erased`). '
        + 'The erasure is recorded in the contact\'s audit chain (`contact.erased`: who, when, which categories).',
      params: IdParams,
      response: { 200: ErasureReport, ...errorResponses },
    },
  }, async (request) => eraseContact({ db, temporal: deps.temporal, taskQueue: deps.taskQueue }, request.params.id, `api_key:${callerOf(request).keyId}`));
};

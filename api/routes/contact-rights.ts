import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { EXPORT_SECTIONS, exportContact } from '../../services/contacts/access';
import { eraseContact } from '../../services/contacts/erasure';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit } from '../paging';

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

const ContactExport = z.object({
  contact: z.record(z.string(), z.unknown()).describe('the contact as held now; an erased contact\'s tombstone: its id and erasedAt'),
  erased: z.boolean(),
  items: z.array(z.looseObject({ section: z.enum(EXPORT_SECTIONS) })).describe('rows of each section in turn, each with its section'),
  nextCursor: NextCursor,
}).meta({ id: 'ContactExport' });

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

  app.get('/contacts/:id/export', {
    config: scopes.admin,
    schema: {
      tags: ['contacts'], summary: 'Everything held about a contact (GDPR Art. 15), a page at a time',
      description: `The contact, then its ${EXPORT_SECTIONS.join(', ')} rows (enrolments with their paths), \`limit\` items a page; `
        + 'pass `nextCursor` as `after` for the next. An erased contact\'s export is its tombstone only.',
      params: IdParams,
      querystring: z.object({ limit: pageLimit(1000, 200), after: z.string().max(200).optional().describe('nextCursor of the previous page') }),
      response: { 200: ContactExport, ...errorResponses },
    },
  }, async (request) => exportContact(db, request.params.id, request.query));
};

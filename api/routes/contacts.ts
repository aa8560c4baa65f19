import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ConsentChangeSchema, ContactPatchSchema, ContactSchema, ContactUpsertSchema } from '../../services/contacts/schemas';
import { findExisting, getContact, getContactWithConsents, listContacts, patchContact, toContact, upsertContact } from '../../services/contacts/contacts';
import { consentChangeView, consentHistoryOf, type ConsentOrigin } from '../../services/contacts/consent-ledger';
import { contactChanged } from '../../services/segments/contact-changed';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const IdParams = z.object({ id: z.uuid() });
const Contact = ContactSchema.meta({ id: 'Contact' });

/** Consents sent to the contact routes come from the API, by the calling key. */
const fromApi = (request: Parameters<typeof callerOf>[0]): ConsentOrigin => ({ via: 'api', actor: `api_key:${callerOf(request).keyId}` });

const RECONSENT = 'A grant of a consent the contact denied (an unsubscribe, a complaint, a denial with `madeBy: contact`) needs `reconsent` with its evidence; '
  + 'without it the request is refused whole (409 `reconsent_required`, `details.problems` name each `consents.<i>.reconsent`) and nothing in it is applied.';

export const contactRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const enrolDeps = { db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.post('/contacts', {
    config: scopes.service,
    schema: {
      tags: ['contacts'],
      summary: 'Upsert a contact by externalId, else by email',
      description: `Given fields overwrite, attributes merge, tags are added. 201 when created, 200 when updated. Segment memberships follow (entering or leaving emits segment.entered / segment.left); a contact that newly matches a segment-triggered journey is enrolled; running enrolments with state goals or exits are told. Consents are recorded in the consent history. ${RECONSENT}`,
      body: ContactUpsertSchema,
      response: { 200: Contact, 201: Contact, ...errorResponses },
    },
  }, async (request, reply) => {
    const before = await findExisting(db, request.body);
    const { contact, created } = await upsertContact(db, request.body, fromApi(request));
    await contactChanged(enrolDeps, { contactId: contact.id, before: created ? undefined : before, after: contact, created });
    return reply.code(created ? 201 : 200).send(toContact(contact));
  });

  app.get('/contacts', {
    config: scopes.service,
    schema: {
      tags: ['contacts'], summary: 'List contacts with filters, a page at a time',
      querystring: z.object({
        email: z.string().max(320).optional(), externalId: z.string().max(200).optional(), tag: z.string().max(100).optional(),
        lifecycleStage: z.string().max(50).optional(), owner: z.string().max(320).optional(), q: z.string().min(1).max(200).optional(),
        limit: z.coerce.number().int().min(1).max(500).default(50), after: z.uuid().optional().describe('nextCursor of the previous page'),
      }),
      response: { 200: z.object({ contacts: z.array(Contact), nextCursor: z.string().nullable() }), ...errorResponses },
    },
  }, async (request) => {
    const page = await listContacts(db, request.query);
    return { contacts: page.contacts.map(toContact), nextCursor: page.nextCursor };
  });

  app.get('/contacts/:id', {
    config: scopes.service,
    schema: { tags: ['contacts'], summary: 'Read a contact, with its consents', params: IdParams, response: { 200: Contact, ...errorResponses } },
  }, async (request) => {
    const { consents, ...contact } = await getContactWithConsents(db, request.params.id);
    return { ...toContact(contact), consents };
  });

  app.patch('/contacts/:id', {
    config: scopes.service,
    schema: {
      tags: ['contacts'],
      summary: 'Change a contact',
      description: `Absent fields stay; null clears; attributes merge (null removes a key); tags replace; addTags/removeTags/scoreDelta adjust. ${RECONSENT}`,
      params: IdParams,
      body: ContactPatchSchema,
      response: { 200: Contact, ...errorResponses },
    },
  }, async (request) => {
    const before = await getContact(db, request.params.id);
    const after = await patchContact(db, request.params.id, request.body, fromApi(request));
    await contactChanged(enrolDeps, { contactId: after.id, before, after });
    return toContact(after);
  });

  app.get('/contacts/:id/consents/history', {
    config: scopes.service,
    schema: {
      tags: ['contacts'], summary: 'Read a contact\'s consent history, oldest first, a page at a time',
      description: 'Every change of the contact\'s consent: before and after, who made it, how it arrived (API, import, unsubscribe, provider feedback), who sent it and its evidence.',
      params: IdParams,
      querystring: z.object({
        channel: z.enum(['email', 'sms', 'phone']).optional(), topic: z.string().max(50).optional(),
        limit: pageLimit(), after: z.coerce.number().int().min(0).optional().describe('nextCursor of the previous page'),
      }),
      response: { 200: z.object({ history: z.array(ConsentChangeSchema), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    await getContact(db, request.params.id);
    const page = pageOf(await consentHistoryOf(db, request.params.id, request.query), request.query.limit, (r) => String(r.id));
    return { history: page.items.map(consentChangeView), nextCursor: page.nextCursor };
  });
};

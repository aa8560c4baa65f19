import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ContactPatchSchema, ContactSchema, ContactUpsertSchema } from '../../services/contact-schema';
import { findExisting, getContact, patchContact, toContact, upsertContact } from '../../services/contacts';
import { enrolNewlyMatching } from '../../services/segments';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const IdParams = z.object({ id: z.uuid() });
const Contact = ContactSchema.meta({ id: 'Contact' });

export const contactRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const enrolDeps = { db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.post('/contacts', {
    schema: {
      tags: ['contacts'],
      summary: 'Upsert a contact by externalId, else by email',
      description: 'Given fields overwrite, attributes merge, tags are added. 201 when created, 200 when updated. A contact that newly matches a segment-triggered journey is enrolled.',
      body: ContactUpsertSchema,
      response: { 200: Contact, 201: Contact, ...errorResponses },
    },
  }, async (request, reply) => {
    const before = await findExisting(db, request.body);
    const { contact, created } = await upsertContact(db, request.body);
    await enrolNewlyMatching(enrolDeps, created ? undefined : before, contact);
    return reply.code(created ? 201 : 200).send(toContact(contact));
  });

  app.get('/contacts/:id', {
    schema: { tags: ['contacts'], summary: 'Read a contact', params: IdParams, response: { 200: Contact, ...errorResponses } },
  }, async (request) => toContact(await getContact(db, request.params.id)));

  app.patch('/contacts/:id', {
    schema: {
      tags: ['contacts'],
      summary: 'Change a contact',
      description: 'Absent fields stay; null clears; attributes merge (null removes a key); tags replace; addTags/removeTags/scoreDelta adjust.',
      params: IdParams,
      body: ContactPatchSchema,
      response: { 200: Contact, ...errorResponses },
    },
  }, async (request) => {
    const before = await getContact(db, request.params.id);
    const after = await patchContact(db, request.params.id, request.body);
    await enrolNewlyMatching(enrolDeps, before, after);
    return toContact(after);
  });
};

import { z } from 'zod';

import { ContactFieldsSchema, TagSchema } from '../../journey-language/contact-fields';

export { ContactFieldsSchema, LIFECYCLE_STAGES, TagSchema, TimeZoneSchema } from '../../journey-language/contact-fields';

export const ConsentInputSchema = z.object({
  channel: z.enum(['email', 'sms', 'phone']).default('email'),
  topic: z.string().regex(/^[a-z0-9_-]{1,50}$/, 'a topic is 1-50 lowercase letters, digits, "_" or "-"').default('marketing'),
  status: z.enum(['granted', 'denied']),
  source: z.string().trim().min(1).max(200).describe('where the consent came from, e.g. "signup form"'),
});

/** POST /v1/contacts: upsert by externalId, else by email. */
export const ContactUpsertSchema = ContactFieldsSchema.extend({
  consents: z.array(ConsentInputSchema).max(20).optional(),
  email: z.email().max(320).optional(),
  externalId: z.string().trim().min(1).max(200).optional(),
  tags: z.array(TagSchema).max(200).optional(),
  score: z.number().int().optional(),
}).refine((c) => c.email !== undefined || c.externalId !== undefined, {
  message: 'a contact needs an email or an externalId',
  path: ['email'],
});
export type ContactUpsert = z.infer<typeof ContactUpsertSchema>;

/** PATCH /v1/contacts/:id: null clears a field; attributes merge (null removes a key). */
export const ContactPatchSchema = ContactFieldsSchema.extend({
  consents: z.array(ConsentInputSchema).max(20).optional(),
  email: z.email().max(320).nullable().optional(),
  externalId: z.string().trim().min(1).max(200).nullable().optional(),
  tags: z.array(TagSchema).max(200).optional(),
  addTags: z.array(TagSchema).max(200).optional(),
  removeTags: z.array(TagSchema).max(200).optional(),
  score: z.number().int().optional(),
  scoreDelta: z.number().int().optional(),
});
export type ContactPatch = z.infer<typeof ContactPatchSchema>;

export const ContactSchema = z.object({
  id: z.uuid(),
  email: z.string().nullable(),
  externalId: z.string().nullable(),
  firstName: z.string().nullable(),
  lastName: z.string().nullable(),
  company: z.string().nullable(),
  title: z.string().nullable(),
  phone: z.string().nullable(),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
  owner: z.string().nullable(),
  lifecycleStage: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  score: z.number().int(),
  consents: z.array(z.object({ channel: z.string(), topic: z.string(), status: z.string(), source: z.string(), at: z.string() })).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Contact = z.infer<typeof ContactSchema>;

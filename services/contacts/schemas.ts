import { z } from 'zod';

import { ContactFieldsSchema, TagSchema } from '../../journey-language/contact-fields';

export { ContactFieldsSchema, LIFECYCLE_STAGES, TagSchema, TimeZoneSchema } from '../../journey-language/contact-fields';

const EvidenceText = z.string().trim().min(1).max(200);

/** What proves a consent change: the form or import it came from, and what the caller can add. */
export const ConsentEvidenceSchema = z.strictObject({
  formId: EvidenceText.optional().describe('the form the contact filled'),
  importId: EvidenceText.optional().describe('the import (a CRM sync, a file) that carried the change'),
  url: z.url().max(2000).optional().describe('where the contact gave it, e.g. the signup page'),
  note: z.string().trim().min(1).max(1000).optional(),
}).describe('stored in the consent history with the change');

export const ConsentInputSchema = z.object({
  channel: z.enum(['email', 'sms', 'phone']).default('email'),
  topic: z.string().regex(/^[a-z0-9_-]{1,50}$/, 'a topic is 1-50 lowercase letters, digits, "_" or "-"').default('marketing'),
  status: z.enum(['granted', 'denied']),
  source: z.string().trim().min(1).max(200).describe('where the consent came from, e.g. "signup form"'),
  madeBy: z.enum(['contact', 'business']).default('contact')
    .describe('who made the choice: the contact (a form, a preference centre) or the business; a grant cannot override a denial the contact made without `reconsent`'),
  evidence: ConsentEvidenceSchema.optional(),
  reconsent: z.strictObject({
    evidence: z.string().trim().min(1).max(2000).describe('how the contact consented again, e.g. "double opt-in confirmed, message <id>"'),
    at: z.iso.datetime({ offset: true }).describe('when the contact consented again'),
  }).optional().describe('marks a grant that overrides a denial the contact made (an unsubscribe, a complaint), with its proof'),
}).refine((c) => c.reconsent === undefined || c.status === 'granted', { message: 'only a grant can be a re-consent', path: ['reconsent'] });
export type ConsentInput = z.infer<typeof ConsentInputSchema>;

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
  preferredChannel: z.enum(['email', 'sms']).nullable(),
  locale: z.string().nullable(),
  timezone: z.string().nullable(),
  owner: z.string().nullable(),
  lifecycleStage: z.string(),
  attributes: z.record(z.string(), z.unknown()),
  tags: z.array(z.string()),
  score: z.number().int(),
  consents: z.array(z.object({
    channel: z.string(), topic: z.string(), status: z.string(), source: z.string(), at: z.string(),
    historyId: z.number().int().nullable().describe('the consent history row behind this answer (GET /v1/contacts/:id/consents/history)'),
  })).optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Contact = z.infer<typeof ContactSchema>;

const ConsentStateSchema = z.object({ status: z.enum(['granted', 'denied']), source: z.string() });

/** One row of a contact's consent history, as the API shows it. */
export const ConsentChangeSchema = z.object({
  id: z.number().int().describe('the history row; an email\'s evidence names the one it relied on'),
  channel: z.string(),
  topic: z.string(),
  before: ConsentStateSchema.nullable().describe('null for the first answer on this channel and topic'),
  after: ConsentStateSchema,
  previousId: z.number().int().nullable().describe('the row this one follows for the same channel and topic'),
  madeBy: z.enum(['contact', 'business']),
  via: z.enum(['api', 'import', 'unsubscribe', 'provider_feedback', 'backfill']),
  actor: z.string().describe('`api_key:<id>`, `contact`, `provider` or `system`'),
  evidence: z.record(z.string(), z.unknown()).describe('the form or import id; for an unsubscribe the client address and user agent; for a complaint the report'),
  reconsent: z.object({ evidence: z.string(), at: z.string() }).nullable(),
  at: z.string(),
}).meta({ id: 'ConsentChange' });
export type ConsentChange = z.infer<typeof ConsentChangeSchema>;

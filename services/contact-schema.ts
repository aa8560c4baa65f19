import { z } from 'zod';

export const LIFECYCLE_STAGES = [
  'subscriber', 'lead', 'marketing_qualified_lead', 'sales_qualified_lead',
  'opportunity', 'customer', 'evangelist', 'other',
] as const;

export function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

export const TimeZoneSchema = z.string().refine(isTimeZone, 'must be an IANA time zone such as "Europe/Paris"');
export const TagSchema = z.string().trim().min(1).max(100);
export const LifecycleStageSchema = z.enum(LIFECYCLE_STAGES);
const AttributeKey = z.string().min(1).max(100);
const name = z.string().trim().max(200);

/** Fields a journey's update_contact step, or a PATCH, may set. */
export const ContactFieldsSchema = z.object({
  firstName: name.nullable().optional(),
  lastName: name.nullable().optional(),
  company: name.nullable().optional(),
  title: name.nullable().optional(),
  phone: z.string().trim().regex(/^\+?[0-9 ().-]{3,30}$/, 'a phone number of digits, spaces, ().- and an optional leading +').nullable().optional(),
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 locale such as "en" or "fr-CA"').nullable().optional(),
  owner: z.string().trim().min(1).max(320).nullable().optional(),
  timezone: TimeZoneSchema.nullable().optional(),
  lifecycleStage: LifecycleStageSchema.optional(),
  attributes: z.record(AttributeKey, z.unknown()).optional(),
});

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

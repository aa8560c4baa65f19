import { z } from 'zod';

/** The contact's fields as the journey language reads and writes them (conditions, update_contact). */
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
  preferredChannel: z.enum(['email', 'sms']).nullable().optional().describe('the channel a send_message step with channel "preferred" tries first'),
  locale: z.string().regex(/^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$/, 'a BCP 47 locale such as "en" or "fr-CA"').nullable().optional(),
  owner: z.string().trim().min(1).max(320).nullable().optional(),
  timezone: TimeZoneSchema.nullable().optional(),
  lifecycleStage: LifecycleStageSchema.optional(),
  attributes: z.record(AttributeKey, z.unknown()).optional(),
});

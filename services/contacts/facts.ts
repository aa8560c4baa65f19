import { and, eq, inArray, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { preparedQuery } from '../../db/statements';
import { events, type ContactRow } from '../../db/schema';
import type { Facts } from '../../journey-language';
import { getContact, toContact } from './contacts';

/** The contact as conditions see it: `contact.email`, `contact.score`, `contact.attributes.x`, ... */
export function contactFacts(row: ContactRow): Record<string, unknown> & { tags: string[] } {
  return toContact(row);
}

/**
 * What a branch decides on: the contact now, and which email steps of this enrolment were opened
 * or clicked (events `email_opened` / `email_clicked` whose properties name the enrolment and step).
 */
const engagementOf = preparedQuery('nurture_engagement_of_enrolment', (db) => db
  .select({ name: events.name, stepId: sql<string>`${events.properties}->>'stepId'` })
  .from(events)
  .where(and(
    eq(events.contactId, sql.placeholder('contactId')),
    inArray(events.name, ['email_opened', 'email_clicked']),
    sql`${events.properties}->>'enrolmentId' = ${sql.placeholder('enrolmentId')}`,
  )));

export async function loadFacts(db: Database, contactId: string, enrolmentId: string, withEngagement = true): Promise<Facts> {
  const contact = await getContact(db, contactId);
  if (!withEngagement) return { contact: contactFacts(contact) };
  const rows = await engagementOf(db).execute({ contactId, enrolmentId });
  const engagement: NonNullable<Facts['engagement']> = {};
  for (const row of rows) {
    if (!row.stepId) continue;
    const entry = (engagement[row.stepId] ??= {});
    if (row.name === 'email_opened') entry.opened = true;
    // A click implies the email was opened, even when images were blocked.
    if (row.name === 'email_clicked') Object.assign(entry, { clicked: true, opened: true });
  }
  return { contact: contactFacts(contact), engagement };
}

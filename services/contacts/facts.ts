import type { Database } from '../../db/client';
import { emailEngagementOf } from '../../db/queries/emails';
import type { ContactRow } from '../../db/schema';
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
export async function loadFacts(db: Database, contactId: string, enrolmentId: string, withEngagement = true): Promise<Facts> {
  const contact = await getContact(db, contactId);
  if (!withEngagement) return { contact: contactFacts(contact) };
  const rows = await emailEngagementOf(db, contactId, enrolmentId);
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

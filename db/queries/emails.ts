import { and, asc, count, eq, gt, inArray, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { events, outgoingEmails } from '../schema';
import { preparedQuery } from '../statements';

/** Marketing emails sent (or in flight) to a contact since a time: the frequency cap's count. */
const marketingSentSince = preparedQuery('nurture_marketing_sent_since', (db) => db.select({ n: count() }).from(outgoingEmails).where(and(
  eq(outgoingEmails.contactId, sql.placeholder('contactId')), eq(outgoingEmails.category, 'marketing'),
  inArray(outgoingEmails.status, ['sent', 'captured', 'sending', 'unknown']), gt(outgoingEmails.createdAt, sql.placeholder('since')),
)));

/** How many marketing emails went (or are going) to the contact since `since`. */
export async function marketingEmailsSince(db: Database, contactId: string, since: Date): Promise<number> {
  const [row] = await marketingSentSince(db).execute({ contactId, since });
  return row?.n ?? 0;
}

/** When each marketing email counted by the cap since `since` was sent (or claimed), oldest first. */
export async function marketingSendTimesSince(db: Database, contactId: string, since: Date): Promise<Date[]> {
  const rows = await db.select({ at: outgoingEmails.createdAt }).from(outgoingEmails).where(and(
    eq(outgoingEmails.contactId, contactId), eq(outgoingEmails.category, 'marketing'),
    inArray(outgoingEmails.status, ['sent', 'captured', 'sending', 'unknown']), gt(outgoingEmails.createdAt, since),
  )).orderBy(asc(outgoingEmails.createdAt));
  return rows.map((r) => r.at);
}

const emailByKey = preparedQuery('nurture_email_by_key', (db) => db.select().from(outgoingEmails).where(eq(outgoingEmails.idempotencyKey, sql.placeholder('key'))));

/** The email ledger's row for an idempotency key, if any. */
export async function emailRowByKey(db: Database, key: string): Promise<typeof outgoingEmails.$inferSelect | undefined> {
  const [row] = await emailByKey(db).execute({ key });
  return row;
}

/**
 * Which email steps of an enrolment were opened or clicked: events `email_opened` /
 * `email_clicked` whose properties name the enrolment and step.
 */
const engagementOf = preparedQuery('nurture_engagement_of_enrolment', (db) => db
  .select({ name: events.name, stepId: sql<string>`${events.properties}->>'stepId'` })
  .from(events)
  .where(and(
    eq(events.contactId, sql.placeholder('contactId')),
    inArray(events.name, ['email_opened', 'email_clicked']),
    sql`${events.properties}->>'enrolmentId' = ${sql.placeholder('enrolmentId')}`,
  )));

/** The contact's open and click events of this enrolment's emails, each with the step it names. */
export async function emailEngagementOf(db: Database, contactId: string, enrolmentId: string): Promise<Array<{ name: string; stepId: string }>> {
  return engagementOf(db).execute({ contactId, enrolmentId });
}

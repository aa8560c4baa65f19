import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { enrolments, events } from '../../db/schema';
import type { Facts } from '../../journey-language';

export type EventFacts = NonNullable<Facts['trigger']>;

const eventColumns = { name: events.name, properties: events.properties, occurredAt: events.occurredAt };
const toFacts = (row: { name: string; properties: Record<string, unknown>; occurredAt: Date } | undefined): EventFacts | undefined =>
  (row ? { name: row.name, properties: row.properties, occurredAt: row.occurredAt.toISOString() } : undefined);

/**
 * The event that started an enrolment, as its conditions and templates read it (`trigger.name`,
 * `trigger.properties.*`), looked up by the enrolment's id where it lives: Temporal's history
 * never holds it. Undefined for an enrolment no event started (API, segment, schedule, a test
 * run) and once an erasure deleted the contact's events.
 */
export async function triggerOf(db: Database, enrolmentId: string | undefined): Promise<EventFacts | undefined> {
  if (!enrolmentId) return undefined;
  const [row] = await db.select(eventColumns).from(enrolments).innerJoin(events, eq(events.id, enrolments.triggerEventId))
    .where(eq(enrolments.id, enrolmentId));
  return toFacts(row);
}

/** An event's facts by its id (the event a wait_for_event received), or undefined. */
export async function eventFactsOf(db: Database, eventId: string | undefined): Promise<EventFacts | undefined> {
  if (!eventId) return undefined;
  const [row] = await db.select(eventColumns).from(events).where(eq(events.id, eventId));
  return toFacts(row);
}

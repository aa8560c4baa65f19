import type { Database } from '../../db/client';
import { lastSeenOf, recentEmailsOf, recentEventsOf } from '../../db/queries/segments';
import type { ContactRow } from '../../db/schema';
import { MAX_EVENTS_COUNTED, segmentNeeds, type SegmentCondition, type SegmentFacts } from '../../journey-language';
import { contactFacts } from '../contacts/facts';

const iso = (at: Date | string) => (at instanceof Date ? at : new Date(at)).toISOString();

/**
 * What segment conditions read about these contacts, in at most three queries whatever their
 * number: only the events, emails and last-seen times that the conditions look at, each bounded
 * (1,000 events per contact and name, 100 emails per contact). `now` is the evaluation's time.
 */
export async function loadSegmentFacts(db: Database, rows: ContactRow[], conditions: SegmentCondition[], now: number): Promise<Map<string, SegmentFacts>> {
  const needs = segmentNeeds(conditions);
  const ids = rows.map((r) => r.id);
  const windows = [...needs.events.values()];
  const since = windows.some((w) => w === undefined) ? new Date(0) : new Date(now - Math.max(0, ...(windows as number[])));
  const [events, emails, lastSeen] = await Promise.all([
    recentEventsOf(db, ids, [...needs.events.keys()], since, MAX_EVENTS_COUNTED),
    recentEmailsOf(db, ids, needs.emails),
    needs.lastSeen ? lastSeenOf(db, ids) : Promise.resolve([]),
  ]);
  const seen = new Map(lastSeen.map((r) => [r.contact_id, iso(r.at)]));
  const facts = new Map<string, SegmentFacts>(rows.map((row) => [row.id, {
    now, contact: { ...contactFacts(row), lastSeenAt: seen.get(row.id) ?? null }, events: [], emails: [],
  }]));
  for (const e of events) facts.get(e.contact_id)?.events!.push({ name: e.name, occurredAt: iso(e.occurred_at), properties: e.properties });
  for (const e of emails) facts.get(e.contact_id)?.emails!.push({ opened: e.opened, clicked: e.clicked });
  return facts;
}

import { and, asc, count, eq, gt } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { contactPage } from '../../db/queries/segments';
import { contacts, segmentMemberships, type ContactRow } from '../../db/schema';
import { evaluateSegment, type SegmentCondition } from '../../journey-language';
import { loadSegmentFacts } from './facts';
import { getSegment } from './segments';

/** A segment's members by contact id, a page at a time, with how many there are. */
export async function segmentMembers(db: Database, key: string, page: { limit: number; after?: string }): Promise<{ count: number; contacts: ContactRow[] }> {
  const segment = await getSegment(db, key);
  const [total] = await db.select({ n: count() }).from(segmentMemberships).where(eq(segmentMemberships.segmentId, segment.id));
  const rows = await db.select({ contact: contacts }).from(segmentMemberships)
    .innerJoin(contacts, eq(contacts.id, segmentMemberships.contactId))
    .where(and(eq(segmentMemberships.segmentId, segment.id), page.after ? gt(segmentMemberships.contactId, page.after) : undefined))
    .orderBy(asc(segmentMemberships.contactId)).limit(page.limit + 1);
  return { count: total?.n ?? 0, contacts: rows.map((r) => r.contact) };
}

/** Contacts a preview looks at, at most: a count over more would be unbounded work in a request. */
export const PREVIEW_SCAN_LIMIT = 10_000;
const PREVIEW_PAGE = 500;

/**
 * How many contacts a condition matches now, and a sample of them, before it is saved: the first
 * PREVIEW_SCAN_LIMIT live contacts by id are evaluated (a page of 500 at a time, as membership
 * is decided); `complete` says whether that was all of them. Writes nothing.
 */
export async function previewSegment(db: Database, condition: SegmentCondition, sampleSize: number, now = Date.now()) {
  let matched = 0;
  let scanned = 0;
  let after: string | undefined;
  const sample: ContactRow[] = [];
  for (;;) {
    const page = await contactPage(db, after, PREVIEW_PAGE);
    const live = page.filter((c) => !c.test && !c.erasedAt);
    const facts = await loadSegmentFacts(db, live, [condition], now);
    for (const contact of live) {
      if (!evaluateSegment(condition, facts.get(contact.id)!)) continue;
      matched += 1;
      if (sample.length < sampleSize) sample.push(contact);
    }
    scanned += page.length;
    if (page.length < PREVIEW_PAGE) return { count: matched, scanned, complete: true, sample };
    if (scanned >= PREVIEW_SCAN_LIMIT) return { count: matched, scanned, complete: false, sample };
    after = page[page.length - 1]!.id;
  }
}


import { inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { applyMemberships, lockMemberships, type MembershipDecision } from '../../db/queries/segments';
import { contacts } from '../../db/schema';
import { evaluateSegment } from '../../journey-language';
import { loadSegmentFacts } from './facts';
import type { PublishedSegment } from './segments';

export interface MembershipChange {
  id: number;
  segmentId: string;
  contactId: string;
  kind: 'entered' | 'left';
}

/**
 * Decides these contacts' membership of these segments now, and writes what changed: one
 * transaction holding the contacts' membership locks, the facts read after the lock (so two
 * writers decide in turn, each on what the other wrote), a few reads for all the contacts and
 * one statement for all the changes. A test contact (a test run's) or an erased one is in no
 * segment. Returns the changes recorded (none on a retry that finds everything decided).
 */
export async function decideMemberships(db: Database, contactIds: string[], segments: PublishedSegment[], now = Date.now()): Promise<MembershipChange[]> {
  if (!contactIds.length || !segments.length) return [];
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    await lockMemberships(tx, contactIds);
    const rows = await tx.select().from(contacts).where(inArray(contacts.id, contactIds));
    const facts = await loadSegmentFacts(tx, rows, segments.map((s) => s.condition), now);
    const decisions: MembershipDecision[] = rows.flatMap((row) => segments.map((segment) => ({
      segmentId: segment.id, version: segment.version, contactId: row.id,
      member: !row.test && !row.erasedAt && evaluateSegment(segment.condition, facts.get(row.id)!),
    })));
    const changed = await applyMemberships(tx, decisions);
    return changed.map((c) => ({ id: Number(c.id), segmentId: c.segment_id, contactId: c.contact_id, kind: c.kind }));
  });
}

import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditRecords, type AuditRecordRow } from '../../db/schema';
import { recordHash } from './records';

export interface BrokenLink {
  chain: string;
  seq: number;
  id: number;
  reason: 'hash_mismatch' | 'prev_hash_mismatch' | 'sequence_gap';
}

export interface VerifyReport {
  ok: boolean;
  chains: number;
  records: number;
  /** Records written before chaining existed (none in a new installation). */
  unchained: number;
  firstBroken?: BrokenLink;
}

/** Where a chain stands while its records are read in order: the next seq and the hash it must link to. */
export interface ChainPosition {
  chain: string;
  nextSeq: number;
  prevHash: string | null;
}

/**
 * Checks one record against its chain's position so far (undefined: the record opens its chain):
 * its seq follows without a gap, it links to its predecessor's hash, and its own hash is what its
 * content and place give. Answers why the link is broken, if it is.
 */
export function brokenLinkOf(row: AuditRecordRow, position: ChainPosition | undefined): BrokenLink['reason'] | undefined {
  const expected = position?.chain === row.chain ? position : { nextSeq: 1, prevHash: null };
  if (row.seq !== expected.nextSeq) return 'sequence_gap';
  if (row.prevHash !== expected.prevHash) return 'prev_hash_mismatch';
  if (recordHash(row) !== row.hash) return 'hash_mismatch';
  return undefined;
}

export async function countUnchained(db: Database): Promise<number> {
  const [{ n } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(auditRecords).where(isNull(auditRecords.chain));
  return n;
}

/**
 * Recomputes one chain: each record's hash from its content and its predecessor's hash, and the
 * sequence without gaps. Names the first broken link. (Every chain, against the latest
 * checkpoint, is a background verification: services/audit/verifications.ts.)
 */
export async function verifyChain(db: Database, chain: string): Promise<VerifyReport> {
  const unchained = await countUnchained(db);
  const rows = await db.select().from(auditRecords).where(eq(auditRecords.chain, chain)).orderBy(asc(auditRecords.seq));
  let position: ChainPosition | undefined;
  for (const [i, row] of rows.entries()) {
    const reason = brokenLinkOf(row, position);
    if (reason) return { ok: false, chains: 1, records: i + 1, unchained, firstBroken: { chain, seq: row.seq!, id: row.id, reason } };
    position = { chain, nextSeq: row.seq! + 1, prevHash: row.hash };
  }
  return { ok: true, chains: 1, records: rows.length, unchained };
}

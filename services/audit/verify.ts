import { asc, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditRecords } from '../../db/schema';
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

/**
 * Recomputes every chain (or one): each record's hash from its content and its predecessor's
 * hash, and the sequence without gaps. Names the first broken link.
 */
export async function verifyAudit(db: Database, onlyChain?: string): Promise<VerifyReport> {
  const chains = onlyChain ? [onlyChain]
    : (await db.selectDistinct({ chain: auditRecords.chain }).from(auditRecords).where(sql`${auditRecords.chain} is not null`)).map((c) => c.chain!);
  const [{ n } = { n: 0 }] = await db.select({ n: sql<number>`count(*)::int` }).from(auditRecords).where(isNull(auditRecords.chain));
  let records = 0;
  for (const chain of chains.sort()) {
    const rows = await db.select().from(auditRecords).where(eq(auditRecords.chain, chain)).orderBy(asc(auditRecords.seq));
    let prev: string | null = null;
    for (const [i, row] of rows.entries()) {
      records += 1;
      const broken = (reason: BrokenLink['reason']): VerifyReport => ({ ok: false, chains: chains.length, records, unchained: n, firstBroken: { chain, seq: row.seq!, id: row.id, reason } });
      if (row.seq !== i + 1) return broken('sequence_gap');
      if (row.prevHash !== prev) return broken('prev_hash_mismatch');
      if (recordHash(row) !== row.hash) return broken('hash_mismatch');
      prev = row.hash;
    }
  }
  return { ok: true, chains: chains.length, records, unchained: n };
}

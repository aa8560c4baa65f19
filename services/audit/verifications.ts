import { and, asc, desc, eq, isNotNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditRecords, auditVerifications, type AuditVerificationRow } from '../../db/schema';
import { notFound } from '../lib/errors';
import { compareHeads, latestCheckpoint, readHeadsPage, type AuditCheckpointSettings, type CheckpointFinding } from './checkpoints';
import { brokenLinkOf, countUnchained, type BrokenLink, type ChainPosition, type VerifyReport } from './verify';

/** A record whose link is broken: the first of its chain (the rest of that chain is not judged). */
export interface LinkFinding {
  chain: string;
  reason: BrokenLink['reason'];
  message: string;
  seq: number;
  id: number;
}

/** The latest checkpoint itself cannot be trusted: its seal, key or digest does not hold. */
export interface CheckpointProblem {
  chain: null;
  reason: 'checkpoint_invalid';
  message: string;
}

export type VerificationFinding = CheckpointFinding | LinkFinding | CheckpointProblem;

/** The checkpoint a verification compared the chains with. */
export interface CheckpointInfo {
  name: string;
  location: string;
  id?: string;
  createdAt?: string;
  keyId?: string;
  chains?: number;
  records?: number;
  headsDigest?: string;
  /** Whether its signature (by the configured key) and its digests hold. */
  valid: boolean;
}

export interface VerificationReport extends VerifyReport {
  /** The latest checkpoint; null when none was written (or none is configured). */
  checkpoint: CheckpointInfo | null;
  /** The first FINDINGS_KEPT findings: checkpoint comparisons first, then broken links. */
  findings: VerificationFinding[];
  findingsTotal: number;
}

/** Where a verification is: the next page's phase and position. */
type Cursor =
  | { phase: 'start' }
  | { phase: 'heads'; name: string; offset: number; end: number }
  | { phase: 'links'; last?: { chain: string; seq: number }; position?: ChainPosition; broken?: string }
  | { phase: 'done' };

export const FINDINGS_KEPT = 100;
/** Records read per page when recomputing the links. */
export const LINKS_PER_PAGE = 2000;

const emptyReport = (): VerificationReport => ({ ok: false, chains: 0, records: 0, unchained: 0, checkpoint: null, findings: [], findingsTotal: 0 });

function addFinding(report: VerificationReport, finding: VerificationFinding): void {
  report.findingsTotal += 1;
  if (report.findings.length < FINDINGS_KEPT) report.findings.push(finding);
}

export async function createVerification(db: Database, requestedBy?: string): Promise<AuditVerificationRow> {
  const [row] = await db.insert(auditVerifications).values({ requestedBy, cursor: { phase: 'start' }, report: { ...emptyReport() } }).returning();
  return row!;
}

export async function getVerification(db: Database, id: string): Promise<AuditVerificationRow> {
  const [row] = await db.select().from(auditVerifications).where(eq(auditVerifications.id, id));
  if (!row) throw notFound('verification', 'id', id);
  return row;
}

/** The verification that finished last, or undefined before any did. */
export async function latestVerification(db: Database): Promise<AuditVerificationRow | undefined> {
  const [row] = await db.select().from(auditVerifications)
    .where(and(eq(auditVerifications.status, 'completed'), isNotNull(auditVerifications.finishedAt))).orderBy(desc(auditVerifications.finishedAt)).limit(1);
  return row;
}

export async function failVerification(db: Database, id: string, error: string): Promise<void> {
  await db.update(auditVerifications).set({ status: 'failed', error, finishedAt: new Date() })
    .where(and(eq(auditVerifications.id, id), eq(auditVerifications.status, 'running')));
}

/** The first page: the latest checkpoint, its seal checked (read through once, streamed). */
async function start(db: Database, settings: AuditCheckpointSettings | undefined, report: VerificationReport): Promise<Cursor> {
  report.unchained = await countUnchained(db);
  const latest = settings ? await latestCheckpoint(settings) : undefined;
  if (!settings || !latest) return { phase: 'links' };
  const { header, summary, problem, headsStart, headsEnd } = latest.check;
  report.checkpoint = {
    name: latest.name, location: settings.sink.location, id: header?.id, createdAt: header?.createdAt, keyId: header?.keyId,
    chains: summary?.chains, records: summary?.records, headsDigest: summary?.headsDigest, valid: !problem,
  };
  if (!problem) return { phase: 'heads', name: latest.name, offset: headsStart, end: headsEnd };
  addFinding(report, { chain: null, reason: 'checkpoint_invalid', message: `checkpoint ${latest.name} does not verify with key ${settings.keyId}: ${problem}` });
  return { phase: 'links' };
}

/** A page of the checkpoint's heads, compared with the chains now. */
async function heads(db: Database, settings: AuditCheckpointSettings, cursor: Extract<Cursor, { phase: 'heads' }>, report: VerificationReport): Promise<Cursor> {
  const page = await readHeadsPage(settings.sink, cursor.name, cursor.offset, cursor.end);
  for (const finding of await compareHeads(db, page.heads)) addFinding(report, finding);
  return page.next >= cursor.end ? { phase: 'links' } : { ...cursor, offset: page.next };
}

const LINK_MESSAGES: Record<BrokenLink['reason'], string> = {
  sequence_gap: 'does not follow its predecessor without a gap',
  prev_hash_mismatch: "does not link to its predecessor's hash",
  hash_mismatch: 'does not hash to its stored hash: its content was changed',
};

/** A page of records in (chain, seq) order, each link recomputed; a chain's position carries over pages. */
async function links(db: Database, cursor: Extract<Cursor, { phase: 'links' }>, report: VerificationReport): Promise<Cursor> {
  const after = cursor.last ? sql`(${auditRecords.chain}, ${auditRecords.seq}) > (${cursor.last.chain}, ${cursor.last.seq})` : isNotNull(auditRecords.chain);
  const rows = await db.select().from(auditRecords).where(after).orderBy(asc(auditRecords.chain), asc(auditRecords.seq)).limit(LINKS_PER_PAGE);
  let { last, position, broken } = cursor;
  for (const row of rows) {
    const chain = row.chain!;
    if (chain !== last?.chain) report.chains += 1;
    report.records += 1;
    last = { chain, seq: row.seq! };
    if (broken === chain) continue;
    const reason = brokenLinkOf(row, position);
    if (reason) {
      addFinding(report, { chain, reason, seq: row.seq!, id: row.id, message: `record ${row.id} at seq ${row.seq} ${LINK_MESSAGES[reason]}` });
      report.firstBroken ??= { chain, seq: row.seq!, id: row.id, reason };
      broken = chain;
    } else {
      position = { chain, nextSeq: row.seq! + 1, prevHash: row.hash };
    }
  }
  return rows.length < LINKS_PER_PAGE ? { phase: 'done' } : { phase: 'links', last, position, broken };
}

/**
 * Runs page `page` of a verification and stores where it got to: the workflow calls this until
 * `done`. A retried call for a page already stored answers without doing it again.
 */
export async function verificationPage(
  db: Database, settings: AuditCheckpointSettings | undefined, id: string, page: number,
): Promise<{ page: number; done: boolean }> {
  const row = await getVerification(db, id);
  if (row.status !== 'running') return { page: row.page, done: true };
  if (row.page !== page) return { page: row.page, done: false };
  const report = row.report as unknown as VerificationReport;
  const cursor = row.cursor as unknown as Cursor;
  let next: Cursor;
  switch (cursor.phase) {
    case 'start': next = await start(db, settings, report); break;
    case 'heads': next = settings ? await heads(db, settings, cursor, report) : { phase: 'links' }; break;
    case 'links': next = await links(db, cursor, report); break;
    case 'done': next = cursor; break;
  }
  const done = next.phase === 'done';
  if (done) report.ok = report.findingsTotal === 0;
  await db.update(auditVerifications)
    .set({ page: page + 1, cursor: next as Record<string, unknown>, report: report as unknown as Record<string, unknown>, ...(done ? { status: 'completed', finishedAt: new Date() } : {}) })
    .where(and(eq(auditVerifications.id, id), eq(auditVerifications.page, page)));
  return { page: page + 1, done };
}

/** Every chain's links, page by page in this process (no checkpoint): for embedded and offline checks, not for a request. */
export async function verifyAllChains(db: Database): Promise<VerifyReport> {
  const report = emptyReport();
  report.unchained = await countUnchained(db);
  let cursor: Cursor = { phase: 'links' };
  while (cursor.phase === 'links') cursor = await links(db, cursor, report);
  return { ok: report.findingsTotal === 0, chains: report.chains, records: report.records, unchained: report.unchained, firstBroken: report.firstBroken };
}

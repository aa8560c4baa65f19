import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { appendAuditRecord, type AuditContent } from '../../db/queries/audit';
import type { EnrolmentProgress } from '../../db/queries/enrolment-progress';
import { auditRecords, type AuditRecordRow } from '../../db/schema';

export interface AuditEntry {
  actor: string;
  action: string;
  outcome: string;
  contactId?: string;
  journeyKey?: string;
  journeyVersion?: number;
  enrolmentId?: string;
  workflowId?: string;
  stepId?: string;
  stepType?: string;
  /** Derived from workflow id + step id; a retried write with the same key is a no-op. */
  idempotencyKey?: string;
  providerMessageId?: string;
  consentState?: string;
  templateVersion?: string;
  /** Written by a test run (sandbox): kept, marked, left out of the stats. */
  test?: boolean;
  details?: Record<string, unknown>;
  /** A process run's record: it goes in the run's own chain (`process:<runId>`). */
  processRunId?: string;
}

/** One chain per process run or enrolment, else per contact, else the system chain. */
export function chainOf(entry: Pick<AuditEntry, 'enrolmentId' | 'contactId' | 'processRunId'>): string {
  if (entry.processRunId) return processChain(entry.processRunId);
  if (entry.enrolmentId) return `enrolment:${entry.enrolmentId}`;
  if (entry.contactId) return `contact:${entry.contactId}`;
  return 'system';
}

/** The audit chain of a process run. */
export const processChain = (runId: string) => `process:${runId}`;

/** JSON with object keys sorted at every level: the same data always hashes the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}

type Hashed = AuditContent & Pick<AuditRecordRow, 'seq' | 'prevHash'>;

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * What an audit record keeps of a value that may be personal data (an address, form values, a
 * comment, a caller's key): `sha256:` + the SHA-256 of its text (a string as it is, anything
 * else as canonical JSON). Records are append-only and cannot forget, so they hold ids and such
 * digests only: a digest proves a value to whoever holds the value (`printf %s <value> |
 * sha256sum`) and tells nothing to whoever does not; the value lives in its table until erasure.
 */
export function digestOf(value: unknown): string {
  return `sha256:${sha256(typeof value === 'string' ? value : canonical(value))}`;
}

/** What a record says, without its place in the chain (seq, prev_hash). */
type Content = AuditContent;

/** The fields a record's hash covers, its place in the chain aside (canonical() sorts keys). */
function hashedFields(r: Content): Record<string, unknown> {
  return {
    chain: r.chain, at: r.at.toISOString(), actor: r.actor, action: r.action, outcome: r.outcome,
    contactId: r.contactId, journeyKey: r.journeyKey, journeyVersion: r.journeyVersion, enrolmentId: r.enrolmentId,
    workflowId: r.workflowId, stepId: r.stepId, stepType: r.stepType, idempotencyKey: r.idempotencyKey,
    providerMessageId: r.providerMessageId, consentState: r.consentState, templateVersion: r.templateVersion, test: r.test, details: r.details,
  };
}

/** SHA-256 over the record's canonical content, without its place in the chain. */
export function contentDigest(r: Content): string {
  return sha256(canonical(hashedFields(r)));
}

/**
 * A record's hash, `v2:` + SHA-256 of `<prev_hash>|<seq>|<content digest>`: PostgreSQL computes
 * the same at insert (see `appendAudit`), so reading the chain's end and appending is one
 * statement. Records written before 2026-11-25 carry a v1 hash (64 hex digits): SHA-256 of the
 * canonical record with its seq and prev_hash inside.
 */
export function linkHash(prevHash: string | null, seq: number, digest: string): string {
  return `v2:${sha256(`${prevHash ?? ''}|${seq}|${digest}`)}`;
}

/** The hash a stored record should have, by the scheme its hash was written with. */
export function recordHash(r: Hashed & { hash?: string | null }): string {
  if (r.hash?.startsWith('v2:')) return linkHash(r.prevHash, r.seq!, contentDigest(r));
  return sha256(canonical({ ...hashedFields(r), seq: r.seq, prevHash: r.prevHash }));
}

/** The entry as a record's content (its chain, time and fields), not yet placed in the chain. */
function contentOf(entry: AuditEntry): Content {
  return {
    chain: chainOf(entry), at: new Date(), actor: entry.actor, action: entry.action,
    outcome: entry.outcome, contactId: entry.contactId ?? null, journeyKey: entry.journeyKey ?? null, journeyVersion: entry.journeyVersion ?? null,
    enrolmentId: entry.enrolmentId ?? null, workflowId: entry.workflowId ?? null, stepId: entry.stepId ?? null, stepType: entry.stepType ?? null,
    idempotencyKey: entry.idempotencyKey ?? null, providerMessageId: entry.providerMessageId ?? null, consentState: entry.consentState ?? null,
    templateVersion: entry.templateVersion ?? null, test: entry.test ?? false, details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
  };
}

/** The first record of a new chain (an enrolment's `enrolment.started`), hashed. */
export function firstRecord(entry: AuditEntry): Hashed & { hash: string } {
  const content = contentOf(entry);
  return { ...content, seq: 1, prevHash: null, hash: linkHash(null, 1, contentDigest(content)) };
}

/** Whether the record was new; if its key was written before, what that record said. */
export interface AppendResult {
  appended: boolean;
  existing?: { outcome: string; details: Record<string, unknown> };
}

/**
 * Appends one audit record to its chain, once per idempotency key, in one statement and without
 * locks (see `appendAuditRecord`). The unique (chain, seq) index makes a concurrent append to the
 * same chain lose the insert; it then tries again, so each chain stays one unbroken line.
 * `progress` moves the record's enrolment in the same statement, also on a retry, so a retried
 * step still moves its enrolment.
 */
export async function appendAudit(db: Database, entry: AuditEntry, progress?: EnrolmentProgress): Promise<AppendResult> {
  const content = contentOf(entry);
  if (progress && !entry.enrolmentId) throw new Error('appendAudit: progress needs the enrolment id');
  const record = { ...content, digest: contentDigest(content) };
  for (let attempt = 1; ; attempt++) {
    const attempted = await appendAuditRecord(db, record, progress);
    if (attempted.appended) return { appended: true };
    if (attempted.seen) return { appended: false, existing: attempted.seen };
    if (attempt >= 100) throw new Error(`Audit chain ${content.chain}: no free place after ${attempt} attempts`);
  }
}

export async function auditForEnrolment(db: Database, enrolmentId: string, options: { last?: number } = {}): Promise<AuditRecordRow[]> {
  if (options.last === undefined) return db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(asc(auditRecords.id));
  // The latest records, oldest first: a long-running enrolment's view stays bounded.
  const latest = await db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(desc(auditRecords.id)).limit(options.last);
  return latest.reverse();
}

export interface AuditQuery {
  contactId?: string;
  enrolmentId?: string;
  journeyKey?: string;
  after?: number;
  limit: number;
}

/** An export page, oldest first. */
export async function queryAudit(db: Database, q: AuditQuery): Promise<AuditRecordRow[]> {
  const where: Array<SQL | undefined> = [
    q.contactId ? eq(auditRecords.contactId, q.contactId) : undefined,
    q.enrolmentId ? eq(auditRecords.enrolmentId, q.enrolmentId) : undefined,
    q.journeyKey ? eq(auditRecords.journeyKey, q.journeyKey) : undefined,
    q.after ? gt(auditRecords.id, q.after) : undefined,
  ];
  return db.select().from(auditRecords).where(and(...where)).orderBy(asc(auditRecords.id)).limit(q.limit);
}

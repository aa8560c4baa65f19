import { createHash } from 'node:crypto';
import { and, asc, desc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../db/client';
import { auditRecords, type AuditRecordRow } from '../db/schema';

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
}

/** One chain per enrolment, else per contact, else the system chain. */
export function chainOf(entry: Pick<AuditEntry, 'enrolmentId' | 'contactId'>): string {
  if (entry.enrolmentId) return `enrolment:${entry.enrolmentId}`;
  if (entry.contactId) return `contact:${entry.contactId}`;
  return 'system';
}

/** JSON with object keys sorted at every level: the same data always hashes the same. */
export function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object' && !(value instanceof Date)) {
    return `{${Object.keys(value).sort().filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`).join(',')}}`;
  }
  return JSON.stringify(value instanceof Date ? value.toISOString() : value ?? null);
}

type Hashed = Pick<AuditRecordRow, 'chain' | 'seq' | 'prevHash' | 'at' | 'actor' | 'action' | 'outcome' | 'contactId' | 'journeyKey'
  | 'journeyVersion' | 'enrolmentId' | 'workflowId' | 'stepId' | 'stepType' | 'idempotencyKey' | 'providerMessageId'
  | 'consentState' | 'templateVersion' | 'test' | 'details'>;

/** SHA-256 over the record's canonical content, including its predecessor's hash. */
export function recordHash(r: Hashed): string {
  return createHash('sha256').update(canonical({
    chain: r.chain, seq: r.seq, prevHash: r.prevHash, at: r.at.toISOString(), actor: r.actor, action: r.action, outcome: r.outcome,
    contactId: r.contactId, journeyKey: r.journeyKey, journeyVersion: r.journeyVersion, enrolmentId: r.enrolmentId,
    workflowId: r.workflowId, stepId: r.stepId, stepType: r.stepType, idempotencyKey: r.idempotencyKey,
    providerMessageId: r.providerMessageId, consentState: r.consentState, templateVersion: r.templateVersion, test: r.test, details: r.details,
  })).digest('hex');
}

/** The record that follows `prevSeq` / `prevHash` on the entry's chain, hashed. */
export function chainedRecord(entry: AuditEntry, prevSeq: number, prevHash: string | null): Hashed & { hash: string } {
  const record: Hashed = {
    chain: chainOf(entry), seq: prevSeq + 1, prevHash, at: new Date(), actor: entry.actor, action: entry.action,
    outcome: entry.outcome, contactId: entry.contactId ?? null, journeyKey: entry.journeyKey ?? null, journeyVersion: entry.journeyVersion ?? null,
    enrolmentId: entry.enrolmentId ?? null, workflowId: entry.workflowId ?? null, stepId: entry.stepId ?? null, stepType: entry.stepType ?? null,
    idempotencyKey: entry.idempotencyKey ?? null, providerMessageId: entry.providerMessageId ?? null, consentState: entry.consentState ?? null,
    templateVersion: entry.templateVersion ?? null, test: entry.test ?? false, details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
  };
  return { ...record, hash: recordHash(record) };
}

/** Whether the record was new; if its key was written before, what that record said. */
export interface AppendResult {
  appended: boolean;
  existing?: { outcome: string; details: Record<string, unknown> };
}

/**
 * A write that belongs with an audit record (an enrolment's progress): its SQL, limited by
 * `onlyIf` when given. It goes into the same statement as the record's insert.
 */
export type AlongsideWrite = (onlyIf?: SQL) => SQL;

/**
 * Appends one audit record to its chain, once per idempotency key, in two round trips and
 * without locks: read the chain's end, insert the next record. The unique (chain, seq) index
 * makes a concurrent append to the same chain lose the insert; it then reads the new end and
 * tries again, so each chain stays one unbroken line. `alongside` is written in the insert's
 * statement, only if the record went in; if the record was in already (a retry), it is written
 * on its own, so a retried step still moves its enrolment.
 */
export async function appendAudit(db: Database, entry: AuditEntry, alongside?: AlongsideWrite): Promise<AppendResult> {
  const chain = chainOf(entry);
  for (let attempt = 1; ; attempt++) {
    const { rows: [found] } = await db.execute(sql`
      select seen.id as seen, seen.outcome as seen_outcome, seen.details as seen_details, last.seq as seq, last.hash as hash
      from (select 1) one
      left join lateral (select id, outcome, details from ${auditRecords} where ${auditRecords.idempotencyKey} = ${entry.idempotencyKey ?? null}) seen on true
      left join lateral (select seq, hash from ${auditRecords} where ${auditRecords.chain} = ${chain} order by seq desc limit 1) last on true
    `) as unknown as { rows: Array<{ seen: string | null; seen_outcome: string; seen_details: Record<string, unknown>; seq: number | null; hash: string | null }> };
    if (found?.seen != null) {
      if (alongside) await db.execute(alongside());
      return { appended: false, existing: { outcome: found.seen_outcome, details: found.seen_details } };
    }
    const insert = db.insert(auditRecords).values(chainedRecord(entry, found?.seq ?? 0, found?.hash ?? null))
      .onConflictDoNothing().returning({ id: auditRecords.id });
    const { rows: inserted } = await db.execute(alongside
      ? sql`with appended as (${insert.getSQL()}), alongside as (${alongside(sql`exists (select 1 from appended)`)}) select id from appended`
      : insert.getSQL()) as unknown as { rows: unknown[] };
    if (inserted.length > 0) return { appended: true };
    if (attempt >= 100) throw new Error(`Audit chain ${chain}: no free place after ${attempt} attempts`);
  }
}

export async function auditForEnrolment(db: Database, enrolmentId: string): Promise<AuditRecordRow[]> {
  return db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(asc(auditRecords.id));
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

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

/**
 * Appends one audit record to its chain, once per idempotency key. A transaction-scoped advisory
 * lock on the chain orders concurrent appends to the same chain; other chains do not wait.
 */
export async function appendAudit(db: Database, entry: AuditEntry): Promise<void> {
  const chain = chainOf(entry);
  await db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${chain}))`);
    if (entry.idempotencyKey) {
      const [seen] = await tx.select({ id: auditRecords.id }).from(auditRecords).where(eq(auditRecords.idempotencyKey, entry.idempotencyKey));
      if (seen) return;
    }
    const [last] = await tx.select({ seq: auditRecords.seq, hash: auditRecords.hash }).from(auditRecords)
      .where(eq(auditRecords.chain, chain)).orderBy(desc(auditRecords.seq)).limit(1);
    const record: Hashed = {
      chain, seq: (last?.seq ?? 0) + 1, prevHash: last?.hash ?? null, at: new Date(), actor: entry.actor, action: entry.action,
      outcome: entry.outcome, contactId: entry.contactId ?? null, journeyKey: entry.journeyKey ?? null, journeyVersion: entry.journeyVersion ?? null,
      enrolmentId: entry.enrolmentId ?? null, workflowId: entry.workflowId ?? null, stepId: entry.stepId ?? null, stepType: entry.stepType ?? null,
      idempotencyKey: entry.idempotencyKey ?? null, providerMessageId: entry.providerMessageId ?? null, consentState: entry.consentState ?? null,
      templateVersion: entry.templateVersion ?? null, test: entry.test ?? false, details: JSON.parse(JSON.stringify(entry.details ?? {})) as Record<string, unknown>,
    };
    await tx.insert(auditRecords).values({ ...record, hash: recordHash(record) });
  });
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

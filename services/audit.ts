import { asc, eq } from 'drizzle-orm';
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
  details?: Record<string, unknown>;
}

/** Appends one audit record; a record with the same idempotency key is written only once. */
export async function appendAudit(db: Database, entry: AuditEntry): Promise<void> {
  await db.insert(auditRecords).values({ ...entry, details: entry.details ?? {} }).onConflictDoNothing();
}

export async function auditForEnrolment(db: Database, enrolmentId: string): Promise<AuditRecordRow[]> {
  return db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(asc(auditRecords.id));
}

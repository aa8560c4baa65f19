import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailRowByKey } from '../../db/queries/emails';
import { auditRecords, enrolments } from '../../db/schema';
import { consentChangeView, consentHistoryRow } from '../contacts/consent-ledger';
import type { ConsentChange } from '../contacts/schemas';
import { notFound } from '../lib/errors';
import type { SendChecks } from './policy';

/** Why an email was or was not sent, from what was recorded when it was decided. */
export interface EmailEvidence {
  idempotencyKey: string;
  status: string;
  /** One sentence an auditor can read: the outcome and the checks that decided it. */
  summary: string;
  skipReason: string | null;
  contactId: string | null;
  enrolmentId: string | null;
  stepId: string | null;
  journey: { key: string; version: number } | null;
  template: { key: string; version: number } | null;
  category: string;
  /** The send-time checks as they were (null for a send recorded before evidence was kept). */
  checks: SendChecks | null;
  /** The consent history row the consent check relied on (null: transactional, no answer and CONSENT_MODE decided, or recorded before the ledger). */
  consentRecord: ConsentChange | null;
  transactionalReason: string | null;
  providerMessageId: string | null;
  checkedAt: string;
  sentAt: string | null;
  /** The step's audit record (the audit export holds the same checks in its details). */
  auditRecord: { id: number; chain: string | null; seq: number | null; hash: string | null; action: string; outcome: string; at: string } | null;
}

/**
 * The evidence of one email, by its idempotency key (`<workflow id>:<step id>:<visit>`, in the
 * step's audit record): the ledger row with the checks recorded when it was decided, the
 * consent record they relied on (history rows never change), the journey version of its
 * enrolment, and the step's hash-chained audit record.
 */
export async function emailEvidence(db: Database, idempotencyKey: string): Promise<EmailEvidence> {
  const row = await emailRowByKey(db, idempotencyKey);
  if (!row) throw notFound('email', 'idempotencyKey', idempotencyKey);
  const checks = (row.evidence ?? null) as SendChecks | null;
  const recordId = checks?.consent.required ? checks.consent.recordId : null;
  const record = recordId === null ? undefined : await consentHistoryRow(db, recordId);
  const [enrolment] = row.enrolmentId
    ? await db.select({ key: enrolments.journeyKey, version: enrolments.journeyVersion }).from(enrolments).where(eq(enrolments.id, row.enrolmentId))
    : [];
  const [audit] = await db.select().from(auditRecords).where(eq(auditRecords.idempotencyKey, idempotencyKey));
  return {
    idempotencyKey, status: row.status, summary: summaryOf(row.status, row.skipReason, checks), skipReason: row.skipReason,
    contactId: row.contactId, enrolmentId: row.enrolmentId, stepId: row.stepId, journey: enrolment ?? null,
    template: row.templateKey && row.templateVersion !== null ? { key: row.templateKey, version: row.templateVersion } : null,
    category: row.category, checks, consentRecord: record ? consentChangeView(record) : null,
    transactionalReason: checks?.transactionalReason ?? null, providerMessageId: row.providerMessageId,
    checkedAt: checks?.checkedAt ?? row.createdAt.toISOString(), sentAt: row.sentAt?.toISOString() ?? null,
    auditRecord: audit ? {
      id: audit.id, chain: audit.chain, seq: audit.seq, hash: audit.hash, action: audit.action, outcome: audit.outcome, at: audit.at.toISOString(),
    } : null,
  };
}

function summaryOf(status: string, skipReason: string | null, checks: SendChecks | null): string {
  const outcome = status === 'skipped' ? `not sent (${skipReason})` : status;
  if (!checks) return `${outcome}; checks not recorded (sent before per-send evidence was kept)`;
  const suppression = checks.suppression.passed ? 'address not suppressed' : `address suppressed (${checks.suppression.reason}, ${checks.suppression.source})`;
  const consent = checks.consent.required
    ? `consent ${checks.consent.passed ? 'allowed' : 'refused'}: ${checks.consent.state}${checks.consent.recordId === null ? '' : ` (consent record ${checks.consent.recordId})`}`
    : `consent not required (${checks.consent.why})`;
  const cap = checks.frequencyCap.applied
    ? `frequency cap ${checks.frequencyCap.passed ? 'held' : 'reached'}: ${checks.frequencyCap.sent} of ${checks.frequencyCap.limit} marketing emails in the window`
    : `no frequency cap (${checks.frequencyCap.why})`;
  return `${outcome}; ${suppression}; ${consent}; ${cap}`;
}

import { and, eq, inArray, sql } from 'drizzle-orm';
import { contactChanged } from '../segments/contact-changed';
import type { Database } from '../../db/client';
import { auditRecords, contacts, enrolments } from '../../db/schema';
import { appendAudit } from '../audit/records';
import { runningEnrolments } from '../enrolment/rows';
import { cancelEnrolment, type EnrolDeps } from '../enrolment/workflow-runs';
import { notFound } from '../lib/errors';
import { ERASURE_STEPS, type ErasureSubject } from './erasure-steps';

/** How long an erasure waits for the contact's cancelled enrolments to end before it clears their data. */
const ENDING_WAIT_MS = 15_000;

export interface ErasureReport {
  contactId: string;
  erasedAt: string;
  /** False when the contact was erased before: this call made sure nothing had come back. */
  firstTime: boolean;
  enrolmentsCancelled: string[];
  /** Cancelled enrolments that had not ended in time (a worker down, a step retrying): erase again once they have. */
  stillRunning: string[];
  /** Rows changed, per table. */
  tables: Record<string, number>;
  /** The record of the erasure in the contact's audit chain. */
  auditRecord: { id: number; chain: string; seq: number; hash: string; at: string };
}

/**
 * Erases a contact (GDPR Art. 17), idempotently:
 * 1. marks the row erased, so from then on the contact is refused everywhere (410; its running
 *    steps fail permanently, findContact sees no contact) and no new data arrives;
 * 2. cancels its running enrolments and waits (up to 15 s) for them to end, so no step in
 *    flight writes after the clearing;
 * 3. clears every table of its personal data (ERASURE_STEPS) in one transaction, leaving the
 *    row as a tombstone (id, erasedAt) that enrolments, emails and audit chains still name;
 * 4. records `contact.erased` in the contact's audit chain: who, when, which categories and how
 *    many rows, no personal data. Audit records hold none to begin with (ids and digests), so
 *    every chain still verifies.
 * A repeat changes nothing and records nothing, unless something had come back (then it is
 * cleared and recorded as `contact.erasure_repeated`).
 */
export async function eraseContact(deps: EnrolDeps, contactId: string, actor: string): Promise<ErasureReport> {
  const [marked] = await deps.db.update(contacts).set({ erasedAt: sql`coalesce(${contacts.erasedAt}, now())` })
    .where(eq(contacts.id, contactId)).returning({ email: contacts.email, erasedAt: contacts.erasedAt, test: contacts.test });
  if (!marked) throw notFound('contact', 'id', contactId);
  const subject: ErasureSubject = { contactId, email: marked.email };

  const running = await runningEnrolments(deps.db, contactId);
  for (const enrolment of running) await cancelEnrolment(deps, enrolment.id, 'the contact was erased');
  const stillRunning = await waitUntilEnded(deps.db, running.map((e) => e.id));

  const tables = await deps.db.transaction(async (tx) => {
    await tx.select({ id: contacts.id }).from(contacts).where(eq(contacts.id, contactId)).for('update');
    const changed: Record<string, number> = {};
    for (const step of ERASURE_STEPS) changed[step.table] = (changed[step.table] ?? 0) + await step.run(tx as unknown as Database, subject);
    return changed;
  });

  // An erased contact is in no segment: it leaves them (no events are sent for it any more).
  await contactChanged(deps, { contactId });
  const key = `contact:${contactId}:erased`;
  const details = {
    categories: ERASURE_STEPS.filter((s) => tables[s.table]! > 0).map((s) => s.category),
    rows: tables, enrolmentsCancelled: running.length, stillRunning: stillRunning.length,
  };
  const first = await appendAudit(deps.db, { actor, action: 'contact.erased', outcome: 'erased', contactId, idempotencyKey: key, test: marked.test, details });
  const changedAny = Object.values(tables).some((n) => n > 0);
  if (!first.appended && changedAny) {
    await appendAudit(deps.db, { actor, action: 'contact.erasure_repeated', outcome: 'erased', contactId, test: marked.test, details });
  }
  const [record] = await deps.db.select().from(auditRecords).where(eq(auditRecords.idempotencyKey, key));
  return {
    contactId, erasedAt: marked.erasedAt!.toISOString(), firstTime: first.appended, enrolmentsCancelled: running.map((e) => e.id),
    stillRunning, tables, auditRecord: { id: record!.id, chain: record!.chain!, seq: record!.seq!, hash: record!.hash!, at: record!.at.toISOString() },
  };
}

/** The enrolments (of these) still running after up to ENDING_WAIT_MS. */
async function waitUntilEnded(db: Database, ids: string[]): Promise<string[]> {
  const deadline = Date.now() + ENDING_WAIT_MS;
  for (;;) {
    const running = ids.length === 0 ? [] : (await db.select({ id: enrolments.id }).from(enrolments)
      .where(and(inArray(enrolments.id, ids), eq(enrolments.status, 'running')))).map((r) => r.id);
    if (running.length === 0 || Date.now() >= deadline) return running;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

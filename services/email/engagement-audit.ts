import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { enrolments } from '../../db/schema';
import { appendAudit } from '../audit/records';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Records an open or a click of a journey's email in the enrolment's audit chain (once per email,
 * once per link for clicks, by its idempotency key), so the journey's results count it: the
 * results trigger counts each enrolment once per step. Engagement outside a journey (no enrolment
 * in the token) stays an event only. A test run's enrolment writes a test record.
 */
export async function auditEngagement(db: Database, kind: 'opened' | 'clicked', token: { c: string; n?: string; s?: string }, linkDigest?: string): Promise<void> {
  if (!token.n || !token.s || !UUID.test(token.n)) return;
  const [enrolment] = await db.select({ journeyKey: enrolments.journeyKey, journeyVersion: enrolments.journeyVersion, testRunId: enrolments.testRunId, contactId: enrolments.contactId })
    .from(enrolments).where(eq(enrolments.id, token.n));
  if (!enrolment || enrolment.contactId !== token.c) return;
  await appendAudit(db, {
    actor: 'contact', action: `email.${kind}`, outcome: kind, contactId: token.c,
    journeyKey: enrolment.journeyKey, journeyVersion: enrolment.journeyVersion, enrolmentId: token.n, stepId: token.s,
    idempotencyKey: `email.${kind}:${token.n}:${token.s}${linkDigest ? `:${linkDigest}` : ''}`, test: enrolment.testRunId !== null,
    details: linkDigest ? { link: linkDigest } : {},
  });
}

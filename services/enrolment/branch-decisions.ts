import type { Database } from '../../db/client';
import { evaluate, readsEvent, readsTrigger, type Condition, type Facts } from '../../journey-language';
import { appendAudit, type AuditEntry } from '../audit/records';
import { loadFacts } from '../contacts/facts';
import { eventFactsOf, triggerOf } from './trigger';

export interface BranchDecisionRequest {
  contactId: string;
  enrolmentId: string;
  cases: Array<{ condition: Condition; next?: string }>;
  default?: string;
  /** Decisions of earlier approval steps, which conditions may read. */
  approvals: Facts['approval'];
  /** Whether a condition reads email engagement (else it is not loaded). */
  engagement: boolean;
  /** The event a wait_for_event just received, for `event.*` (publishing allows it only right after one). */
  eventId?: string;
  /** The branch's audit record, less its outcome and details (the decision fills them). */
  audit: Omit<AuditEntry, 'outcome' | 'details'> & { enrolmentId: string; idempotencyKey: string };
  stepId: string;
}

/**
 * Decides a branch once: reads the contact (and its engagement, the enrolment's trigger event and
 * the event at hand when its conditions read them), takes the first case whose
 * condition holds, and records the decision with the enrolment's progress. A retry after the
 * record was written answers with the recorded decision, whatever the contact says now, so the
 * path taken and the audit trail always agree.
 */
export async function decideBranch(db: Database, req: BranchDecisionRequest): Promise<{ index: number }> {
  const conditions = req.cases.map((c) => c.condition);
  const [facts, trigger, event] = await Promise.all([
    loadFacts(db, req.contactId, req.enrolmentId, req.engagement),
    conditions.some(readsTrigger) ? triggerOf(db, req.enrolmentId) : undefined,
    conditions.some(readsEvent) ? eventFactsOf(db, req.eventId) : undefined,
  ]);
  const all: Facts = { ...facts, trigger, event, approval: req.approvals };
  const index = req.cases.findIndex((c) => evaluate(c.condition, all));
  const next = index >= 0 ? req.cases[index]!.next : req.default;
  const result = await appendAudit(
    db,
    { ...req.audit, outcome: index >= 0 ? `case ${index + 1}` : 'default', details: { case: index >= 0 ? index : null, next: next ?? null } },
    { currentStep: req.stepId },
  );
  if (!result.existing) return { index };
  const recorded = result.existing.details.case;
  return { index: typeof recorded === 'number' ? recorded : -1 };
}

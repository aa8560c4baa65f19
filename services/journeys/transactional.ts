import type { Database } from '../../db/client';
import type { JourneyDefinition } from '../../journey-language';
import { appendAudit } from '../audit/records';
import type { FieldProblem } from '../lib/errors';

/**
 * A transactional email skips consent and the frequency cap (never the suppression list), so only
 * an admin may mark one, with a reason: a transactional `send_email` step needs its
 * `transactionalReason` to be published (publishing takes an admin key), and the reason goes
 * into the audit. Each step without one is a problem naming the field.
 */
export function transactionalProblems(definition: JourneyDefinition): FieldProblem[] {
  return definition.steps.flatMap((step, i) => step.type === 'send_email' && step.category === 'transactional' && !step.transactionalReason
    ? [{
      path: `definition.steps[${i}].transactionalReason`, stepId: step.id,
      message: `step "${step.id}": a transactional email skips consent and the frequency cap: give "transactionalReason" (why it is transactional, e.g. "order receipt")`,
    }]
    : []);
}

/** The transactional steps of a version with the reasons given for them. */
export function transactionalSteps(definition: JourneyDefinition): Array<{ stepId: string; reason: string }> {
  return definition.steps.flatMap((step) => step.type === 'send_email' && step.category === 'transactional' && step.transactionalReason
    ? [{ stepId: step.id, reason: step.transactionalReason }]
    : []);
}

/**
 * Audits who marked which steps of a published version transactional and why (once per version):
 * `journey.transactional_marked`, actor the publishing admin key.
 */
export async function auditTransactionalSteps(db: Database, key: string, version: number, definition: JourneyDefinition, actor: string): Promise<void> {
  const steps = transactionalSteps(definition);
  if (!steps.length) return;
  await appendAudit(db, {
    actor, action: 'journey.transactional_marked', outcome: 'published', journeyKey: key, journeyVersion: version,
    idempotencyKey: `journey:${key}:${version}:transactional`, details: { steps },
  });
}

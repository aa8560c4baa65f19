import { condition } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { BranchStep, SplitStep } from '../services/journey-definition';
import { actions } from './activities';
import { evaluate } from './conditions';
import type { EnrolmentContext } from './context';
import { assign } from './split';
import type { StepOutcome } from './steps';

/** Takes the first case whose condition holds, over the contact as it is now. */
export async function branch(step: BranchStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const facts = await actions.loadFacts.executeWithOptions(
    { activityId: ctx.activityId(step, 'facts'), summary: 'Read the contact and its engagement for the branch' },
    [{ contactId: ctx.input.contactId, enrolmentId: ctx.input.enrolmentId }],
  );
  const all = { ...facts, approval: ctx.state.approvals };
  const index = step.cases.findIndex((c) => evaluate(c.condition, all));
  const next = index >= 0 ? step.cases[index]!.next : step.default;
  const outcome = index >= 0 ? `case ${index + 1}` : 'default';
  await ctx.record(step, { action: 'branch.taken', outcome, details: { case: index >= 0 ? index : null, next: next ?? null } });
  return { outcome, next };
}

/**
 * Deterministic A/B assignment per contact and journey. The holdout (control group) gets no
 * further steps unless it names one: it stays enrolled for its duration so its conversions count.
 */
export async function split(step: SplitStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const options = [
    ...step.variants.map((v) => ({ id: v.id, weight: v.weight, next: v.next, holdout: false })),
    ...(step.holdout ? [{ id: 'holdout', weight: step.holdout.weight, next: step.holdout.next, holdout: true }] : []),
  ];
  const chosen = assign(`${ctx.input.journeyKey}:${step.id}:${ctx.input.contactId}`, options);
  ctx.state.variant = chosen.id;
  await ctx.record(step, { action: 'split.assigned', outcome: chosen.id, details: { variant: chosen.id, holdout: chosen.holdout } });
  if (!chosen.holdout || chosen.next) return { outcome: chosen.id, next: chosen.next };
  const hold = step.holdout?.duration ?? '30d';
  await condition(() => ctx.state.ending !== undefined, ctx.scaled(msToNumber(hold)), { summary: `Holdout (control group) for ${hold}: no steps, goal still counts` });
  return { outcome: 'holdout', end: ctx.state.ending ?? { status: 'completed', reason: `holdout (control group) for ${hold}` } };
}

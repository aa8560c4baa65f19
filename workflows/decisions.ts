import { condition } from '@temporalio/workflow';
import { assign, evaluate, msOf, readsEngagement } from '../journey-language/interpreter';
import type { BranchStep, SplitStep } from '../journey-language';
import { actions, local } from './activities';
import type { EnrolmentContext } from './context';
import type { StepOutcome } from './steps';

/** Takes the first case whose condition holds, over the contact as it is now. */
export async function branch(step: BranchStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const summary = 'Read the contact and its engagement, take the first case that holds';
  const engagement = step.cases.some((c) => readsEngagement(c.condition));
  let index: number;
  if (ctx.batching) {
    // One local activity reads, decides and records (a retry answers with the recorded decision).
    const { audit } = ctx.recordInput(step, { action: 'branch.taken', outcome: '' });
    ({ index } = await local.decideBranch.executeWithOptions({ summary }, [{
      contactId: ctx.input.contactId, enrolmentId: ctx.input.enrolmentId, cases: step.cases, default: step.default,
      approvals: ctx.state.approvals, engagement, audit, stepId: step.id, eventId: ctx.state.eventAtHand,
    }]));
  } else {
    const facts = await actions.loadFacts.executeWithOptions(
      { activityId: ctx.activityId(step, 'facts'), summary },
      [{ contactId: ctx.input.contactId, enrolmentId: ctx.input.enrolmentId, engagement }],
    );
    index = step.cases.findIndex((c) => evaluate(c.condition, { ...facts, approval: ctx.state.approvals }));
  }
  const next = index >= 0 ? step.cases[index]!.next : step.default;
  const outcome = index >= 0 ? `case ${index + 1}` : 'default';
  if (!ctx.batching) await ctx.record(step, { action: 'branch.taken', outcome, details: { case: index >= 0 ? index : null, next: next ?? null } });
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
  const record = { action: 'split.assigned', outcome: chosen.id, details: { variant: chosen.id, holdout: chosen.holdout } };
  if (!chosen.holdout || chosen.next) {
    await ctx.recordOutcome(step, record);
    return { outcome: chosen.id, next: chosen.next };
  }
  await ctx.record(step, record);
  const hold = step.holdout?.duration ?? '30d';
  await condition(() => ctx.state.ending !== undefined, ctx.scaled(msOf(hold)), { summary: `Holdout (control group) for ${hold}: no steps, goal still counts` });
  return { outcome: 'holdout', end: ctx.state.ending ?? { status: 'completed', reason: `holdout (control group) for ${hold}` } };
}

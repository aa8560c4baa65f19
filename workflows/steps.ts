import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import type { ExitStep, Step, UpdateContactStep } from '../journey-language';
import { assignOwner, notify, sendEmail } from './actions';
import { sendMessage } from './messages';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import { approval } from './approval';
import { humanTask } from './task';
import { branch, split } from './decisions';
import { PERMANENT_FAILURE, type EnrolmentEnd } from './contract';
import { wait, waitForEvent } from './waits';

/** Where the enrolment goes after a step: the next step, or its end. */
export interface StepOutcome {
  outcome: string;
  next?: string;
  end?: EnrolmentEnd;
}

/**
 * Runs one step. A permanent failure of its side effect (unknown or erased contact, a template
 * that cannot render with this data, a 4xx domain error: non-retryable, see
 * runtime/activity-failures.ts) ends the enrolment `failed`, with a `step.failed` record that
 * names the code and the reason. Other errors propagate as before (transient ones never reach
 * here: their activities retry with backoff until they succeed).
 */
export async function runStepOrFail(step: Step, ctx: EnrolmentContext): Promise<StepOutcome> {
  try {
    return await runStep(step, ctx);
  } catch (err) {
    const failure = permanentFailureOf(err);
    if (!failure) throw err;
    ctx.state.openTask = undefined;
    await ctx.recordOutcome(step, { action: 'step.failed', outcome: 'failed', details: failure, suffix: 'failed' });
    return { outcome: 'failed', end: { status: 'failed', reason: `step "${step.id}" failed: ${failure.error}` } };
  }
}

function permanentFailureOf(err: unknown): { code: string; error: string } | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : undefined;
  if (!(cause instanceof ApplicationFailure) || cause.type !== PERMANENT_FAILURE) return undefined;
  const code = (cause.details?.[0] as { code?: unknown } | undefined)?.code;
  return { code: typeof code === 'string' ? code : 'permanent_failure', error: cause.message };
}

/** Runs one step. Exhaustive: a new step type fails to compile until it has a handler here. */
export function runStep(step: Step, ctx: EnrolmentContext): Promise<StepOutcome> {
  switch (step.type) {
    case 'send_email':
      return sendEmail(step, ctx);
    case 'send_message':
      return sendMessage(step, ctx);
    case 'wait':
      return wait(step, ctx);
    case 'wait_for_event':
      return waitForEvent(step, ctx);
    case 'branch':
      return branch(step, ctx);
    case 'split':
      return split(step, ctx);
    case 'update_contact':
      return updateContact(step, ctx);
    case 'assign_owner':
      return assignOwner(step, ctx);
    case 'notify':
      return notify(step, ctx);
    case 'approval':
      return approval(step, ctx);
    case 'task':
      return humanTask(step, ctx);
    case 'exit':
      return exit(step, ctx);
    default: {
      const unhandled: never = step;
      throw new Error(`No handler for step ${JSON.stringify(unhandled)}`);
    }
  }
}

async function updateContact(step: UpdateContactStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const changes = { set: step.set, addTags: step.addTags, removeTags: step.removeTags, scoreDelta: step.scoreDelta };
  const result = await actions.updateContact.executeWithOptions(
    { activityId: ctx.activityId(step, 'update'), summary: 'Update the contact in the CRM' },
    [{ idempotencyKey: ctx.keyFor(step), contactId: ctx.input.contactId, changes }],
  );
  const outcome = !result.found ? 'contact_missing' : result.applied ? 'updated' : 'already_applied';
  await ctx.recordOutcome(step, { action: 'contact.updated', outcome, details: { changes } });
  return { outcome, next: step.next };
}

async function exit(step: ExitStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  await ctx.recordOutcome(step, { action: 'exit.reached', outcome: 'exited', details: { reason: step.reason } });
  return { outcome: 'exited', end: { status: 'exited', reason: step.reason } };
}

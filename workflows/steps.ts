import type { ExitStep, SendEmailStep, Step, UpdateContactStep } from '../services/journey-definition';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import { branch, split } from './decisions';
import type { EnrolmentEnd } from './types';
import { wait, waitForEvent } from './waits';

/** Where the enrolment goes after a step: the next step, or its end. */
export interface StepOutcome {
  outcome: string;
  next?: string;
  end?: EnrolmentEnd;
}

/** Runs one step. Exhaustive: a new step type fails to compile until it has a handler here. */
export function runStep(step: Step, ctx: EnrolmentContext): Promise<StepOutcome> {
  switch (step.type) {
    case 'send_email':
      return sendEmail(step, ctx);
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
    case 'exit':
      return exit(step, ctx);
    default: {
      const unhandled: never = step;
      throw new Error(`No handler for step ${JSON.stringify(unhandled)}`);
    }
  }
}

async function sendEmail(step: SendEmailStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const result = await actions.sendEmail.executeWithOptions(
    { activityId: ctx.activityId(step, 'send'), summary: `Send email "${step.subject}"` },
    [{
      idempotencyKey: ctx.keyFor(step), enrolmentId: ctx.input.enrolmentId, contactId: ctx.input.contactId,
      journeyKey: ctx.input.journeyKey, stepId: step.id, subject: step.subject, text: step.text, html: step.html,
    }],
  );
  await ctx.record(step, {
    action: `email.${result.status}`, outcome: result.status, providerMessageId: result.providerMessageId,
    details: { to: result.to ?? null, reason: result.reason ?? null, replayed: result.replayed },
  });
  return { outcome: result.status, next: step.next };
}

async function updateContact(step: UpdateContactStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const changes = { set: step.set, addTags: step.addTags, removeTags: step.removeTags, scoreDelta: step.scoreDelta };
  const result = await actions.updateContact.executeWithOptions(
    { activityId: ctx.activityId(step, 'update'), summary: 'Update the contact in the CRM' },
    [{ idempotencyKey: ctx.keyFor(step), contactId: ctx.input.contactId, changes }],
  );
  const outcome = !result.found ? 'contact_missing' : result.applied ? 'updated' : 'already_applied';
  await ctx.record(step, { action: 'contact.updated', outcome, details: { changes } });
  return { outcome, next: step.next };
}

async function exit(step: ExitStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  await ctx.record(step, { action: 'exit.reached', outcome: 'exited', details: { reason: step.reason } });
  return { outcome: 'exited', end: { status: 'exited', reason: step.reason } };
}

import {
  allHandlersFinished, condition, continueAsNew, patched, setCurrentDetails, setHandler, upsertSearchAttributes, workflowInfo,
} from '@temporalio/workflow';
import type { Step } from '../journey-language';
import { registerApprovalHandlers } from './approval';
import { registerTaskHandlers } from './task';
import type { RecordStepInput } from '../activities/audit';
import { EnrolmentContext } from './context';
import { describeStep } from './describe';
import { EventDesk } from './events';
import { STEP_VISIT_LIMIT_PATCH } from './patches';
import { runStepOrFail } from './steps';
import {
  cancelEnrolmentSignal, enrolmentStateQuery, EnrolmentStatusKey, journeyEventSignal, JourneyStep,
  type EnrolmentEnd, type EnrolmentInput, type EnrolmentResult, type EnrolmentState, type JourneyWorkflow,
} from './contract';

/** Keep this many recent path entries in workflow state; the audit log holds the full path. */
const PATH_KEPT = 50;
/** Continue as new well before Temporal's history limits. */
const HISTORY_EVENTS_LIMIT = 5_000;
/**
 * Entering one step more often than this ends the enrolment `failed`: a backstop for a loop that
 * never ends (publishing refuses loops that cannot sleep; this bounds the rest).
 */
const STEP_VISITS_LIMIT = 1_000;

/**
 * One enrolment of one contact in one journey version: interprets the definition step by step.
 * Deterministic: all I/O happens in activities; timers and waits are Temporal's. Goal and exit
 * events (signal `journeyEvent`) end it at the next step boundary or during any wait.
 */
export async function journeyWorkflow(input: EnrolmentInput): Promise<EnrolmentResult> {
  const steps = new Map<string, Step>(input.definition.steps.map((s) => [s.id, s]));
  const state: EnrolmentState = {
    status: 'running',
    journeyKey: input.journeyKey,
    journeyVersion: input.journeyVersion,
    nextStepId: input.resume ? input.resume.nextStepId : input.definition.steps[0]?.id,
    visits: { ...input.resume?.visits },
    path: [...(input.resume?.path ?? [])],
    seenEventIds: [...(input.resume?.seenEventIds ?? [])],
    variant: input.resume?.variant,
    approvals: { ...input.resume?.approvals },
    eventAtHand: input.resume?.eventAtHand,
    inbox: [],
  };
  setHandler(enrolmentStateQuery, () => state);
  const desk = new EventDesk(input.definition, state, input);
  setHandler(journeyEventSignal, (event) => desk.receive(event));
  setHandler(cancelEnrolmentSignal, ({ reason }) => {
    state.ending ??= { status: 'cancelled', reason };
  });
  const ctx = new EnrolmentContext(input, state);
  registerApprovalHandlers(state);
  registerTaskHandlers(state);

  let end: EnrolmentEnd = { status: 'completed', reason: 'reached the last step' };
  while (state.nextStepId && !state.ending) {
    // An event still being decided (one sent without its facts) may end the enrolment: settle it first.
    if (!desk.idle) {
      await condition(() => desk.idle);
      if (state.ending) break;
    }
    const info = workflowInfo();
    if (info.continueAsNewSuggested || info.historyLength > (input.historyLimit ?? HISTORY_EVENTS_LIMIT)) {
      await continueAsNew<typeof journeyWorkflow>({
        ...input,
        resume: {
          nextStepId: state.nextStepId, visits: state.visits, path: state.path, seenEventIds: state.seenEventIds,
          variant: state.variant, approvals: state.approvals, eventAtHand: state.eventAtHand,
        },
      });
    }
    const step = steps.get(state.nextStepId);
    if (!step) {
      end = { status: 'failed', reason: `step "${state.nextStepId}" is not in version ${input.journeyVersion}` };
      break;
    }
    ctx.enter(step);
    const visits = state.visits[step.id]!;
    const visitLimit = input.maxStepVisits ?? STEP_VISITS_LIMIT;
    if (visits > visitLimit && patched(STEP_VISIT_LIMIT_PATCH)) {
      end = { status: 'failed', reason: `step "${step.id}" was entered ${visits} times, more than the ${visitLimit} allowed: a loop that does not end` };
      break;
    }
    if (showsStep(step, ctx)) upsertSearchAttributes([{ key: JourneyStep, value: step.id }]);
    setCurrentDetails(`${describeStep(step)}. Journey ${input.journeyKey} v${input.journeyVersion}, contact ${input.contactId}.`);

    const outcome = await runStepOrFail(step, ctx);
    state.path.push({ stepId: step.id, type: step.type, at: new Date().toISOString(), outcome: outcome.outcome });
    if (state.path.length > PATH_KEPT) state.path.splice(0, state.path.length - PATH_KEPT);
    state.nextStepId = outcome.next;
    if (outcome.end) end = outcome.end;
    if (outcome.end) break;
    if (state.nextStepId && !state.ending) await ctx.flush();
  }
  return finish(input, state, ctx, state.ending ?? end);
}
journeyWorkflow satisfies JourneyWorkflow;

/**
 * Whether to move the JourneyStep search attribute to this step: only where an enrolment rests
 * (a wait, a wait for an event, an approval, a holdout) and only when it changes. Actions take
 * milliseconds; one stuck retrying shows in the UI as the run's pending activity, with its summary
 * and the run's current details. Each upsert costs the server a visibility write.
 */
function showsStep(step: Step, ctx: EnrolmentContext): boolean {
  if (!ctx.batching) return true;
  if (workflowInfo().typedSearchAttributes.get(JourneyStep) === step.id) return false;
  switch (step.type) {
    case 'wait':
    case 'wait_for_event':
    case 'approval':
    case 'task':
      return true;
    case 'split':
      return step.holdout !== undefined;
    case 'branch':
    case 'exit':
    case 'send_email':
    case 'send_message':
    case 'update_contact':
    case 'assign_owner':
    case 'notify':
      return false;
    default: {
      const unhandled: never = step;
      throw new Error(`No search-attribute rule for step ${JSON.stringify(unhandled)}`);
    }
  }
}

async function finish(input: EnrolmentInput, state: EnrolmentState, ctx: EnrolmentContext, end: EnrolmentEnd): Promise<EnrolmentResult> {
  await condition(allHandlersFinished);
  state.status = end.status;
  state.nextStepId = undefined;
  upsertSearchAttributes([{ key: EnrolmentStatusKey, value: end.status }]);
  setCurrentDetails(`Ended ${end.status}: ${end.reason}.`);
  const workflowId = workflowInfo().workflowId;
  const record: RecordStepInput = {
    audit: {
      actor: 'journey', action: `enrolment.${end.status}`, outcome: end.status,
      contactId: input.contactId, journeyKey: input.journeyKey, journeyVersion: input.journeyVersion,
      enrolmentId: input.enrolmentId, workflowId, idempotencyKey: `${workflowId}:end`, test: input.sandbox !== undefined,
      details: { reason: end.reason, eventId: end.eventId ?? null, variant: state.variant ?? null, lastStep: state.currentStepId ?? null },
    },
    progress: { currentStep: null, status: end.status },
  };
  // With the last step's held record, if any: one write for both.
  await ctx.write([record], `Enrolment ${end.status}: ${end.reason}`, 'enrolment:end');
  return { status: end.status, reason: end.reason, variant: state.variant, path: state.path };
}

import { ApplicationFailure, condition, setHandler, uuid4 } from '@temporalio/workflow';
import { msOf, validateValues } from '../journey-language/interpreter';
import type { ApprovalStep } from '../journey-language';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import {
  decideTaskUpdate, DecisionRefusal, SANDBOX_APPROVER_PREFIX, sandboxApprover,
  type DecisionInput, type DecisionRefusalType, type EnrolmentState, type OpenTask, type ScriptedDecision,
} from './contract';
import type { StepOutcome } from './steps';

/** Refuses a decision with a typed, non-retryable failure the API maps to 409, 403 or 422. */
export function refuse(type: DecisionRefusalType, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/** Registers the decision update: its validator refuses a closed task, a caller who may not decide, or bad values. */
export function allowed(task: OpenTask, { userId }: DecisionInput['actor']): boolean {
  // A test run's synthetic approver decides only its own run's tasks, never a real one.
  if (userId.startsWith(SANDBOX_APPROVER_PREFIX)) return task.sandboxApprover === userId;
  // An accepted task step's task is its holder's alone.
  if (task.acceptance?.acceptedBy) return task.acceptance.acceptedBy === userId;
  // The people resolved when the task opened or was escalated; no role the caller claims counts.
  const inSet = (d?: { userIds: string[] }) => !!d && d.userIds.includes(userId);
  return inSet(task.deciders) || (task.escalating && inSet(task.escalation));
}

/** A task step's task is completed (approve) only once accepted; declining (reject) needs no acceptance. */
function refuseUnaccepted(task: OpenTask, decision: DecisionInput['decision']): void {
  if (decision === 'approve' && task.acceptance && !task.acceptance.acceptedBy) refuse(DecisionRefusal.notAccepted, 'accept this task before completing it');
}

export function registerApprovalHandlers(state: EnrolmentState): void {
  setHandler(decideTaskUpdate, async (input) => {
    const task = state.openTask!;
    // A decision may arrive while the task is being created: wait until its approvers are known.
    await condition(() => task.deciders !== undefined);
    // A completion right after its acceptance waits until the acceptance is stored.
    await condition(() => !task.acceptance?.acceptedBy || task.acceptance.recorded);
    // A task step's task closed while this waited (it expired) takes no decision.
    if (task.decision || state.ending || (task.acceptance && state.openTask !== task)) refuse(DecisionRefusal.taskClosed, 'this task is closed or already decided');
    if (!allowed(task, input.actor)) refuse(DecisionRefusal.notAllowed, 'only the assigned approver or the escalation target may decide');
    refuseUnaccepted(task, input.decision);
    task.decision = { decision: input.decision, values: input.values, decidedBy: input.actor.userId };
    await actions.recordDecision.executeWithOptions(
      // A task step's task (since its acceptance patch) may be declined once per assignment.
      { activityId: `${task.stepId}:${state.visits[task.stepId] ?? 1}:decision${task.acceptance ? `-${task.acceptance.assignment}` : ''}`, summary: `Record the ${input.decision} decision` },
      [{ taskId: task.taskId, idempotencyKey: task.idempotencyKey, decision: input.decision, values: input.values, comment: input.comment, userId: input.actor.userId }],
    );
    task.recorded = true;
    return { status: input.decision === 'approve' ? 'approved' : 'rejected' };
  }, {
    validator: (input) => {
      const task = state.openTask;
      if (!task || task.taskId !== input.taskId || task.decision || state.ending) refuse(DecisionRefusal.taskClosed, 'this task is closed or already decided');
      if (task.deciders && !allowed(task, input.actor)) refuse(DecisionRefusal.notAllowed, 'only the assigned approver or the escalation target may decide');
      refuseUnaccepted(task, input.decision);
      // Declining a task step's task asks for no form.
      const problems = task.acceptance && input.decision === 'reject' ? [] : validateValues(task.fields, input.values);
      if (problems.length) refuse(DecisionRefusal.invalidValues, 'the form values are not valid', problems);
    },
  });
}

/**
 * A test run's scripted decision on this visit of the step (the n-th decision for a step decides
 * its n-th task), made once the task is open and its time has come: as the run's sandbox
 * approver, through the same decideTask update as an approver's (an activity sends it).
 */
function scriptedDecisionMilestone(step: ApprovalStep, ctx: EnrolmentContext, task: OpenTask, start: number) {
  const scripted: ScriptedDecision | undefined = (ctx.input.sandbox?.decisions ?? [])
    .filter((d) => d.stepId === step.id)[(ctx.state.visits[step.id] ?? 1) - 1];
  return {
    at: scripted && Math.max(start, scripted.at), done: false,
    run: async () => {
      const r = await actions.decideAsTestRun.executeWithOptions(
        { activityId: ctx.activityId(step, 'scripted-decision'), summary: `Scripted decision: ${scripted!.decision}` },
        [{ workflowId: ctx.workflowId, taskId: task.taskId, decision: scripted!.decision, values: scripted!.values, approver: task.sandboxApprover! }],
      );
      if (!r.decided) await ctx.record(step, { action: 'task.scripted_decision_refused', outcome: 'refused', details: { reason: r.reason ?? null }, suffix: 'scripted' });
    },
  };
}

/**
 * Creates the task, then waits for the decision (the update above) while reminding, escalating
 * and finally expiring it on its schedule. Approve and reject take their own paths.
 */
export async function approval(step: ApprovalStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  // The workflow clock: the time of the workflow task, the same on every replay.
  const start = Date.now();
  const at = (d?: string) => (d === undefined ? undefined : start + ctx.scaled(msOf(d)));
  const expireAt = at(step.expireAfter)!;
  const key = ctx.keyFor(step);
  // The id is known before the task row exists, so a decision racing its creation is recognised.
  const task: OpenTask = {
    taskId: uuid4(), stepId: step.id, idempotencyKey: key, fields: step.fields, escalating: false, recorded: false,
    sandboxApprover: ctx.input.sandbox && sandboxApprover(ctx.input.sandbox.testRunId),
  };
  ctx.state.openTask = task;
  const created = await actions.createTask.executeWithOptions(
    { activityId: ctx.activityId(step, 'task'), summary: `Create approval task "${step.title}"` },
    [{
      taskId: task.taskId, idempotencyKey: key, enrolmentId: ctx.input.enrolmentId, workflowId: ctx.workflowId, stepId: step.id,
      journeyKey: ctx.input.journeyKey, journeyVersion: ctx.input.journeyVersion, contactId: ctx.input.contactId,
      title: step.title, description: step.description, assignee: step.assignee, escalateTo: step.escalateTo, fields: step.fields,
      dueAt: step.due ? new Date(at(step.due)!).toISOString() : undefined, expiresAt: new Date(expireAt).toISOString(),
      test: ctx.sandboxed || undefined,
    }],
  );
  task.taskId = created.taskId;
  task.escalation = created.escalation;
  task.deciders = created.deciders;
  const expiresAt = new Date(expireAt).toISOString();
  const milestones = [
    { at: at(step.remindAfter), done: false, run: () => actions.remindTask.executeWithOptions({ activityId: ctx.activityId(step, 'remind'), summary: 'Remind the approvers' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt, assignee: step.assignee }]) },
    { at: at(step.escalateAfter), done: false, run: async () => {
      task.escalating = true;
      const r = await actions.escalateTask.executeWithOptions({ activityId: ctx.activityId(step, 'escalate'), summary: 'Escalate the task' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt, escalateTo: step.escalateTo! }]);
      if (r.escalated) task.escalation = { userIds: r.userIds, role: r.role };
    } },
    scriptedDecisionMilestone(step, ctx, task, start),
  ].filter((m) => m.at !== undefined && m.at < expireAt);

  for (;;) {
    const pending = milestones.filter((m) => !m.done);
    const nextAt = Math.min(expireAt, ...pending.map((m) => m.at!));
    const wake = await condition(() => task.decision !== undefined || ctx.state.ending !== undefined, Math.max(1, nextAt - Date.now()),
      { summary: `Wait for the decision on task ${task.taskId} until ${new Date(nextAt).toISOString()}` });
    if (wake) break;
    // The timer fired: `nextAt` has come, even if the workflow clock reads a moment before it.
    const now = Math.max(Date.now(), nextAt);
    if (now >= expireAt) {
      await actions.expireTask.executeWithOptions({ activityId: ctx.activityId(step, 'expire'), summary: 'Expire the task' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt }]);
      ctx.state.openTask = undefined;
      return { outcome: 'expired', next: step.onExpire };
    }
    for (const m of pending.filter((p) => p.at! <= now)) {
      await m.run();
      m.done = true;
    }
  }
  ctx.state.openTask = undefined;
  if (!task.decision) {
    await actions.cancelTask.executeWithOptions({ activityId: ctx.activityId(step, 'cancel'), summary: 'Close the task: the enrolment ended' }, [{ taskId: task.taskId, idempotencyKey: key, reason: ctx.state.ending?.reason ?? 'ended' }]);
    return { outcome: 'interrupted' };
  }
  // Move on once the update handler has recorded the decision.
  await condition(() => task.recorded);
  ctx.state.approvals[step.id] = task.decision;
  return { outcome: task.decision.decision === 'approve' ? 'approved' : 'rejected', next: task.decision.decision === 'approve' ? step.onApprove : step.onReject };
}

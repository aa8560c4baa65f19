import { ApplicationFailure, condition, defineUpdate, setHandler, uuid4, workflowInfo } from '@temporalio/workflow';
import { msToNumber } from '@temporalio/common/lib/time';
import type { ApprovalStep } from '../services/journey-definition';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import { validateValues } from './form';
import type { StepOutcome } from './steps';
import type { EnrolmentState, OpenTask } from './types';

export interface DecisionInput {
  taskId: string;
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
  actor: { userId: string; roles: string[] };
}

/** The decision of an approval task; the API uses the task id as the update id. */
export const decideTaskUpdate = defineUpdate<{ status: 'approved' | 'rejected' }, [DecisionInput]>('decideTask');

/** Errors the validator raises start with a code the API maps to 409, 403 or 422. */
function refuse(code: 'task_closed' | 'not_allowed' | 'invalid_values', message: string): never {
  throw new Error(`${code}: ${message}`);
}

/** Registers the decision update: its validator refuses a closed task, a caller who may not decide, or bad values. */
export function registerApprovalHandlers(state: EnrolmentState): void {
  const allowed = (task: OpenTask, { userId, roles }: DecisionInput['actor']) => {
    const inSet = (d?: { userIds: string[]; role?: string }) => !!d && (d.userIds.includes(userId) || (d.role !== undefined && roles.includes(d.role)));
    return inSet(task.deciders) || (task.escalating && inSet(task.escalation));
  };
  setHandler(decideTaskUpdate, async (input) => {
    const task = state.openTask!;
    // A decision may arrive while the task is being created: wait until its approvers are known.
    await condition(() => task.deciders !== undefined);
    if (task.decision || state.ending) throw ApplicationFailure.nonRetryable('task_closed: this task is closed or already decided');
    if (!allowed(task, input.actor)) throw ApplicationFailure.nonRetryable('not_allowed: only the assigned approver or the escalation target may decide');
    task.decision = { decision: input.decision, values: input.values, decidedBy: input.actor.userId };
    await actions.recordDecision.executeWithOptions(
      { activityId: `${task.stepId}:${state.visits[task.stepId] ?? 1}:decision`, summary: `Record the ${input.decision} decision` },
      [{ taskId: task.taskId, idempotencyKey: task.idempotencyKey, decision: input.decision, values: input.values, comment: input.comment, userId: input.actor.userId }],
    );
    task.recorded = true;
    return { status: input.decision === 'approve' ? 'approved' : 'rejected' };
  }, {
    validator: (input) => {
      const task = state.openTask;
      if (!task || task.taskId !== input.taskId || task.decision || state.ending) refuse('task_closed', 'this task is closed or already decided');
      if (task.deciders && !allowed(task, input.actor)) refuse('not_allowed', 'only the assigned approver or the escalation target may decide');
      const problems = validateValues(task.fields, input.values);
      if (problems.length) refuse('invalid_values', JSON.stringify(problems));
    },
  });
}

/**
 * Creates the task, then waits for the decision (the update above) while reminding, escalating
 * and finally expiring it on its schedule. Approve and reject take their own paths.
 */
export async function approval(step: ApprovalStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const start = workflowInfo().unsafe.now();
  const at = (d?: string) => (d === undefined ? undefined : start + ctx.scaled(msToNumber(d)));
  const expireAt = at(step.expireAfter)!;
  const key = ctx.keyFor(step);
  // The id is known before the task row exists, so a decision racing its creation is recognised.
  const task: OpenTask = { taskId: uuid4(), stepId: step.id, idempotencyKey: key, fields: step.fields, escalating: false, recorded: false };
  ctx.state.openTask = task;
  const created = await actions.createTask.executeWithOptions(
    { activityId: ctx.activityId(step, 'task'), summary: `Create approval task "${step.title}"` },
    [{
      taskId: task.taskId, idempotencyKey: key, enrolmentId: ctx.input.enrolmentId, workflowId: ctx.workflowId, stepId: step.id,
      journeyKey: ctx.input.journeyKey, journeyVersion: ctx.input.journeyVersion, contactId: ctx.input.contactId,
      title: step.title, description: step.description, assignee: step.assignee, escalateTo: step.escalateTo, fields: step.fields,
      dueAt: step.due ? new Date(at(step.due)!).toISOString() : undefined, expiresAt: new Date(expireAt).toISOString(),
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
  ].filter((m) => m.at !== undefined && m.at < expireAt);

  for (;;) {
    const pending = milestones.filter((m) => !m.done);
    const nextAt = Math.min(expireAt, ...pending.map((m) => m.at!));
    const wake = await condition(() => task.decision !== undefined || ctx.state.ending !== undefined, Math.max(0, nextAt - workflowInfo().unsafe.now()),
      { summary: `Wait for the decision on task ${task.taskId} until ${new Date(nextAt).toISOString()}` });
    if (wake) break;
    const now = workflowInfo().unsafe.now();
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

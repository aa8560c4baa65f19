import { condition, uuid4 } from '@temporalio/workflow';
import { msOf } from '../journey-language/interpreter';
import type { Principal, TaskStep } from '../journey-language';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import type { OpenTask } from './contract';
import type { StepOutcome } from './steps';

/** Who holds the task on its n-th assignment (0 = first): the assignee, then the pool's next or the escalation target. */
function holderOf(step: TaskStep, n: number): Principal | { owner: 'contact' } {
  if ('pool' in step.assignee) return { user: step.assignee.pool[n % step.assignee.pool.length]! };
  if (n > 0 && step.escalateTo) return step.escalateTo;
  return step.assignee;
}

/**
 * A `task` step as it ran before TASK_ACCEPTANCE_PATCH (kept for enrolments that entered one
 * before it): each holder has `acceptWithin` to accept (the approve decision, with the form's
 * values) or reject, in one act; on timeout the task is expired and reopened for the next holder,
 * at most `maxReassignments` times, then the outcome is no_answer. Each assignment's side effects
 * are keyed by workflow id + step id + visit + assignment.
 */
export async function legacyHumanTask(step: TaskStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const within = ctx.scaled(msOf(step.acceptWithin));
  for (let n = 0; n <= step.maxReassignments; n++) {
    const key = `${ctx.keyFor(step)}:${n}`;
    const deadline = Date.now() + within;
    const expiresAt = new Date(deadline).toISOString();
    const task: OpenTask = { taskId: uuid4(), stepId: step.id, idempotencyKey: key, fields: step.fields, escalating: false, recorded: false };
    ctx.state.openTask = task;
    const created = await actions.createTask.executeWithOptions(
      { activityId: ctx.activityId(step, `task-${n}`), summary: `Create task "${step.title}" (assignment ${n + 1})` },
      [{
        taskId: task.taskId, idempotencyKey: key, enrolmentId: ctx.input.enrolmentId, workflowId: ctx.workflowId, stepId: step.id,
        journeyKey: ctx.input.journeyKey, journeyVersion: ctx.input.journeyVersion, contactId: ctx.input.contactId,
        title: step.title, description: step.description, assignee: holderOf(step, n), fields: step.fields, expiresAt, stepType: 'task',
        test: ctx.sandboxed || undefined,
      }],
    );
    task.taskId = created.taskId;
    task.deciders = created.deciders;
    const decided = await condition(() => task.decision !== undefined || ctx.state.ending !== undefined, Math.max(1, deadline - Date.now()),
      { summary: `Wait for task ${task.taskId} to be accepted until ${expiresAt}` });
    if (!decided) {
      await actions.expireTask.executeWithOptions({ activityId: ctx.activityId(step, `expire-${n}`), summary: 'Expire the unaccepted task' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt }]);
      ctx.state.openTask = undefined;
      continue;
    }
    ctx.state.openTask = undefined;
    if (!task.decision) {
      await actions.cancelTask.executeWithOptions({ activityId: ctx.activityId(step, `cancel-${n}`), summary: 'Close the task: the enrolment ended' }, [{ taskId: task.taskId, idempotencyKey: key, reason: ctx.state.ending?.reason ?? 'ended' }]);
      return { outcome: 'interrupted' };
    }
    await condition(() => task.recorded);
    ctx.state.approvals[step.id] = task.decision;
    return task.decision.decision === 'approve' ? { outcome: 'accepted', next: step.onAccepted } : { outcome: 'rejected', next: step.onRejected };
  }
  return { outcome: 'no_answer', next: step.onNoAnswer };
}

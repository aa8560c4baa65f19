import { condition, patched, setHandler, uuid4 } from '@temporalio/workflow';
import { msOf } from '../journey-language/interpreter';
import type { Principal, TaskStep } from '../journey-language';
import { actions } from './activities';
import { allowed, refuse } from './approval';
import type { EnrolmentContext } from './context';
import { acceptTaskUpdate, DecisionRefusal, type EnrolmentState, type OpenTask } from './contract';
import { TASK_ACCEPTANCE_PATCH } from './patches';
import type { StepOutcome } from './steps';
import { legacyHumanTask } from './task-legacy';

type Holder = Principal | { owner: 'contact' } | { pool: string[]; poolKey: string };

/**
 * Who holds the task on its n-th assignment (0 = first). A pool's first holder is whose turn it
 * is in the rotation (`first`, once known: the n-th holder after it with onTimeout `next`);
 * on later assignments onTimeout `escalate` hands the task to escalateTo.
 */
function holderOf(step: TaskStep, ctx: EnrolmentContext, n: number, first?: string): Holder {
  const a = step.assignee;
  if (n > 0 && step.onTimeout === 'escalate' && step.escalateTo) return step.escalateTo;
  if (!('pool' in a)) return a;
  if (n === 0 || first === undefined) return { pool: a.pool, poolKey: step.poolKey ?? `${ctx.input.journeyKey}:${step.id}` };
  return { user: a.pool[(Math.max(0, a.pool.indexOf(first)) + n) % a.pool.length]! };
}

/** Registers the acceptance update: the task's holder claims its open task step's task. */
export function registerTaskHandlers(state: EnrolmentState): void {
  const closed = () => refuse(DecisionRefusal.taskClosed, 'this task is closed, already accepted or decided');
  setHandler(acceptTaskUpdate, async (input) => {
    const task = state.openTask!;
    await condition(() => task.deciders !== undefined);
    if (state.openTask !== task || task.decision || state.ending || !task.acceptance || task.acceptance.acceptedBy) closed();
    if (!allowed(task, input.actor)) refuse(DecisionRefusal.notAllowed, 'only the task\'s holder may accept it');
    task.acceptance!.acceptedBy = input.actor.userId;
    // Its completion deadline runs from now: the task's row (its page, its inbox entry) shows it.
    const completeBy = task.acceptance!.completeWithin === undefined ? undefined : Date.now() + task.acceptance!.completeWithin;
    task.acceptance!.completeBy = completeBy;
    await actions.recordAcceptance.executeWithOptions(
      { activityId: `${task.stepId}:${state.visits[task.stepId] ?? 1}:accept-${task.acceptance!.assignment}`, summary: 'Record the acceptance' },
      [{ taskId: task.taskId, idempotencyKey: task.idempotencyKey, userId: input.actor.userId, ...(completeBy ? { completeBy: new Date(completeBy).toISOString() } : {}) }],
    );
    task.acceptance!.recorded = true;
    return { status: 'accepted' as const };
  }, {
    validator: (input) => {
      const task = state.openTask;
      if (!task || task.taskId !== input.taskId || !task.acceptance || task.acceptance.acceptedBy || task.decision || state.ending) closed();
      if (task!.deciders && !allowed(task!, input.actor)) refuse(DecisionRefusal.notAllowed, 'only the task\'s holder may accept it');
    },
  });
}

/** Waits for `done` until `deadline`, reminding the holder once at `remindAt` (if before the deadline). */
async function waitUntil(done: () => boolean, deadline: number, summary: string, remind?: { at: number; run: () => Promise<unknown> }): Promise<boolean> {
  if (remind && remind.at < deadline) {
    if (await condition(done, Math.max(1, remind.at - Date.now()), { summary: `${summary} (reminder at ${new Date(remind.at).toISOString()})` })) return true;
    await remind.run();
  }
  return condition(done, Math.max(1, deadline - Date.now()), { summary: `${summary} until ${new Date(deadline).toISOString()}` });
}

/**
 * A `task` step: a human task with a form, in two acts (docs/journey-language.md). Each holder has
 * `acceptWithin` to accept it (or decline); unaccepted, the task expires and moves to the next
 * holder (onTimeout), at most `maxReassignments` times, then the outcome is no_answer. Once
 * accepted, the holder completes it with the form's values within `completeWithin` (outcome
 * accepted) or declines it (onDecline: rejected, or the next holder). Enrolments that entered a
 * task step before TASK_ACCEPTANCE_PATCH run it as before (task-legacy.ts). Each assignment's
 * side effects are keyed by workflow id + step id + visit + assignment.
 */
export async function humanTask(step: TaskStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  if (!patched(TASK_ACCEPTANCE_PATCH)) return legacyHumanTask(step, ctx);
  const within = ctx.scaled(msOf(step.acceptWithin));
  const completeWithin = ctx.scaled(msOf(step.completeWithin));
  let first: string | undefined;
  let declined = false;
  for (let n = 0; n <= step.maxReassignments; n++) {
    const key = `${ctx.keyFor(step)}:${n}`;
    const offered = Date.now();
    const acceptBy = offered + within;
    const expiresAt = new Date(acceptBy + completeWithin).toISOString();
    const task: OpenTask = {
      taskId: uuid4(), stepId: step.id, idempotencyKey: key, fields: step.fields, escalating: false, recorded: false, acceptance: { recorded: false, assignment: n, completeWithin },
    };
    ctx.state.openTask = task;
    const created = await actions.createTask.executeWithOptions(
      { activityId: ctx.activityId(step, `task-${n}`), summary: `Offer task "${step.title}" (assignment ${n + 1})` },
      [{
        taskId: task.taskId, idempotencyKey: key, enrolmentId: ctx.input.enrolmentId, workflowId: ctx.workflowId, stepId: step.id,
        journeyKey: ctx.input.journeyKey, journeyVersion: ctx.input.journeyVersion, contactId: ctx.input.contactId,
        title: step.title, description: step.description, assignee: holderOf(step, ctx, n, first), fields: step.fields, expiresAt,
        stepType: 'task', acceptBy: new Date(acceptBy).toISOString(), reassigned: n === 0 ? undefined : declined ? 'declined' : 'not_accepted',
        test: ctx.sandboxed || undefined,
      }],
    );
    task.taskId = created.taskId;
    task.deciders = created.deciders;
    first ??= created.holder;
    const reminder = step.remindAfter === undefined ? undefined : {
      at: offered + ctx.scaled(msOf(step.remindAfter)),
      run: () => actions.remindTask.executeWithOptions({ activityId: ctx.activityId(step, `remind-${n}`), summary: 'Remind the holder to accept' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt }]),
    };
    const answered = () => task.acceptance!.acceptedBy !== undefined || task.decision !== undefined || ctx.state.ending !== undefined;
    let done = await waitUntil(answered, acceptBy, `Wait for task ${task.taskId} to be accepted`, reminder);
    if (done && task.acceptance!.acceptedBy && !task.decision && !ctx.state.ending) {
      await condition(() => task.acceptance!.recorded);
      const completeBy = task.acceptance!.completeBy ?? Date.now() + completeWithin;
      done = await condition(() => task.decision !== undefined || ctx.state.ending !== undefined, Math.max(1, completeBy - Date.now()),
        { summary: `Wait for task ${task.taskId} to be completed until ${new Date(completeBy).toISOString()}` });
      if (!done) {
        // Closed before it expires: a completion arriving meanwhile is refused, not recorded beside the no_answer.
        ctx.state.openTask = undefined;
        await actions.expireTask.executeWithOptions({ activityId: ctx.activityId(step, `expire-${n}`), summary: 'Expire the uncompleted task' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt }]);
        return { outcome: 'no_answer', next: step.onNoAnswer };
      }
    }
    ctx.state.openTask = undefined;
    if (!done) {
      await actions.expireTask.executeWithOptions({ activityId: ctx.activityId(step, `expire-${n}`), summary: 'Expire the unaccepted task' }, [{ taskId: task.taskId, idempotencyKey: key, expiresAt }]);
      declined = false;
      continue;
    }
    if (!task.decision) {
      await actions.cancelTask.executeWithOptions({ activityId: ctx.activityId(step, `cancel-${n}`), summary: 'Close the task: the enrolment ended' }, [{ taskId: task.taskId, idempotencyKey: key, reason: ctx.state.ending?.reason ?? 'ended' }]);
      return { outcome: 'interrupted' };
    }
    await condition(() => task.recorded);
    const last = task.decision.decision === 'approve' || step.onDecline === 'reject' || n === step.maxReassignments;
    if (!last) {
      declined = true;
      continue;
    }
    ctx.state.approvals[step.id] = task.decision;
    return task.decision.decision === 'approve' ? { outcome: 'accepted', next: step.onAccepted } : { outcome: 'rejected', next: step.onRejected };
  }
  return { outcome: 'no_answer', next: step.onNoAnswer };
}

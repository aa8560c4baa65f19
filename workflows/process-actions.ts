import { ApplicationFailure, condition, setHandler } from '@temporalio/workflow';
import { approvalMove, isFinished, slotFor, validateValues, type ApprovalMove, type ApprovalSlot, type RunTask } from '../journey-language/interpreter';
import type { ProcessTask } from '../journey-language';
import { actions } from './activities';
import {
  actOnProcessTaskUpdate, ProcessTaskRefusal, type ProcessRunState, type ProcessTaskAction, type ReviewSubject,
} from './contract';

/**
 * How a process run takes completions, answers and decisions: the `actOnProcessTask` update, whose
 * validator refuses what may not happen (a closed task, a wrong action, four eyes, someone who is
 * not an assignee, bad values) before anything reaches history, and whose handler records the
 * action through an activity and moves the task.
 */
export type ProcessRunRef = { runId: string; workflowId: string; processKey: string };

export function refuse(type: string, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/** The actions a task's kind takes: checklist and form tasks are completed, approvals approved or rejected. */
const takes = (task: ProcessTask, action: ProcessTaskAction['action']) => (task.kind === 'approval' ? action !== 'complete' : action === 'complete');

/** Registers `actOnProcessTask`: its validator refuses a task not open, a caller who may not act, a wrong action or bad values. */
export function registerActionHandler(
  state: Omit<ProcessRunState, 'progress'>, byId: Map<string, ProcessTask>, run: ProcessRunRef, review: ReviewSubject | undefined, changed: () => void,
): void {
  const { tasks } = state;
  /** Tasks with an action being recorded: the next action on the task waits, then is checked against its outcome. */
  const inFlight = new Set<string>();
  const allowed = (t: RunTask, userId: string) => !t.slots!.length || !!slotFor(t.slots!, userId);
  const check = (input: ProcessTaskAction) => {
    const task = byId.get(input.taskId);
    const t = tasks[input.taskId];
    if (!task || !t || t.status !== 'open' || state.status !== 'running') refuse(ProcessTaskRefusal.taskClosed, 'this task is not open');
    if (!takes(task, input.action)) refuse(ProcessTaskRefusal.wrongAction, task.kind === 'approval' ? 'an approval is approved or rejected' : `a ${task.kind} task is completed`);
    if (input.action === 'approve' && review?.excludedApprovers.includes(input.actor.userId)) {
      refuse(ProcessTaskRefusal.fourEyes, review.kind === 'template'
        ? `four eyes: whoever saved version ${review.version} of template "${review.templateKey}" cannot approve its review`
        : `four eyes: whoever last edited the draft of journey "${review.journeyKey}" cannot approve its review`);
    }
    if (t.slots && !allowed(t, input.actor.userId)) refuse(ProcessTaskRefusal.notAllowed, 'only an assignee of this task who has not acted on it yet may act on it');
    const fields = task.kind === 'checklist' ? [] : task.fields;
    const problems = validateValues(fields, input.values);
    if (problems.length) refuse(ProcessTaskRefusal.invalidValues, 'the form values are not valid', problems);
    return { task, t };
  };
  setHandler(actOnProcessTaskUpdate, async (input) => {
    const key = input.taskId;
    await condition(() => tasks[input.taskId]?.slots !== undefined && !inFlight.has(key));
    const { task, t } = check(input);
    inFlight.add(key);
    let status: Exclude<RunTask['status'], 'pending'> = 'done';
    let slot: ApprovalSlot | undefined;
    let move: ApprovalMove | undefined;
    if (task.kind === 'approval') {
      slot = slotFor(t.slots!, input.actor.userId)!;
      move = approvalMove(task, t.slots!.map((s) => (s === slot ? { ...s, decision: input.action as 'approve' | 'reject' } : s)));
      status = move.status;
    }
    // A sequential approval's decision carries its stage (and the stage's outcome once decided); other tasks' inputs are as before.
    const stage = move?.stage && { number: move.stage.number, ...(move.stage.outcome ? { outcome: move.stage.outcome } : {}) };
    try {
      await actions.recordProcessTaskAction({
        ...run, taskId: task.id, kind: task.kind, title: task.title, action: input.action, userId: input.actor.userId, values: input.values, comment: input.comment, status,
        ...(stage ? { stage } : {}),
      });
      if (slot) Object.assign(slot, { decision: input.action, decidedBy: input.actor.userId });
      Object.assign(t, { status, values: { ...t.values, ...input.values } }, isFinished(status) ? { finishedAt: Date.now() } : {});
      if (task.kind === 'approval' && isFinished(status)) t.decision = status === 'approved' ? 'approve' : 'reject';
      const next = move?.stage?.next;
      if (next) {
        // The next stage opens: until its approvers are resolved nobody may act (actions wait for the slots).
        t.slots = undefined;
        t.slots = (await actions.openApprovalStage({ ...run, taskId: task.id, kind: task.kind, title: task.title, stage: next.number, assignees: next.approvers })).slots;
      }
    } finally {
      inFlight.delete(key);
    }
    changed();
    return { status };
  }, { validator: (input) => { check(input); } });
}

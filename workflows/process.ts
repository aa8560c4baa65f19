import { allHandlersFinished, ApplicationFailure, condition, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import {
  approvalOutcome, dueAtOf, holdersOf, isFinished, nextMoves, orderedTasks, progressOf, slotFor, validateValues,
  type ApprovalSlot, type RunTask,
} from '../journey-language/interpreter';
import type { ProcessRunStatus } from '../db/schema';
import type { ProcessTask } from '../journey-language';
import { actions } from './activities';
import { JOURNEY_REVIEW_PATCH } from './patches';
import {
  actOnProcessTaskUpdate, Assignee, ProcessTask as ProcessTaskKey, ProcessTaskRefusal, processRunStateQuery,
  type JourneyReviewSubject, type ProcessRunInput, type ProcessRunState, type ProcessTaskAction,
} from './contract';

/**
 * A process run: one workflow per run (`process:<key>:<runId>`), not tied to a contact. It opens
 * tasks as their turn comes (stop tasks and `after` hold later ones back), skips conditional
 * tasks whose condition is false, takes completions, answers and decisions through the
 * `actOnProcessTask` update, marks tasks overdue with durable timers, and ends when every task is
 * finished (or a stop approval is rejected). Every move is written and audited by an activity.
 */
export async function processWorkflow(input: ProcessRunInput): Promise<{ status: ProcessRunStatus; done: number; total: number }> {
  const { definition } = input;
  const run = { runId: input.runId, workflowId: workflowInfo().workflowId, processKey: input.processKey };
  const byId = new Map(orderedTasks(definition).map((t) => [t.id, t]));
  const state: Omit<ProcessRunState, 'progress'> = {
    runId: input.runId, processKey: input.processKey, version: input.version, status: 'running', startedAt: Date.now(),
    tasks: Object.fromEntries([...byId.keys()].map((id) => [id, { id, status: 'pending', overdue: false, values: {} } as RunTask])),
  };
  /** Bumped by every accepted action: the main loop wakes on it. */
  let changes = 0;
  let seen = 0;
  setHandler(processRunStateQuery, () => ({ ...state, progress: progressOf(definition, state.tasks) }));
  registerActionHandler(state, byId, run, input.review, () => { changes++; });

  await actions.recordProcessRunStarted({ ...run, version: input.version });
  for (;;) {
    await advance(state, run, input);
    showNextTask(state);
    const stopRejected = [...byId.values()].some((t) => t.stop && state.tasks[t.id]!.status === 'rejected');
    if (stopRejected || Object.values(state.tasks).every((t) => isFinished(t.status))) {
      state.status = stopRejected ? 'rejected' : 'completed';
      break;
    }
    const dues = Object.values(state.tasks).filter((t) => t.status === 'open' && !t.overdue && t.dueAt !== undefined).map((t) => t.dueAt!);
    const nextDue = dues.length ? Math.min(...dues) : undefined;
    const woken = await condition(() => changes !== seen, nextDue === undefined ? undefined : Math.max(1, nextDue - Date.now()));
    seen = changes;
    if (!woken && nextDue !== undefined) {
      // The timer fired: `nextDue` has come, even if the workflow clock reads a moment before it.
      const now = Math.max(Date.now(), nextDue);
      const late = Object.values(state.tasks).filter((t) => t.status === 'open' && !t.overdue && t.dueAt !== undefined && t.dueAt <= now);
      await actions.markProcessTasksOverdue({ ...run, taskIds: late.map((t) => t.id) });
      for (const t of late) t.overdue = true;
    }
  }
  // Decisions still being recorded finish first, so none is lost or recorded after the run ended.
  await condition(allHandlersFinished);
  for (const t of Object.values(state.tasks)) if (!isFinished(t.status)) t.status = 'cancelled';
  const progress = progressOf(definition, state.tasks);
  await actions.finishProcessRun({ ...run, status: state.status as 'completed' | 'rejected', done: progress.done, total: progress.total });
  // A journey review publishes exactly the reviewed draft, or records why not. Only runs started with a review ask the patch.
  if (input.review && patched(JOURNEY_REVIEW_PATCH)) {
    await actions.concludeJourneyReview({ ...run, status: state.status as 'completed' | 'rejected', review: input.review });
  }
  return { status: state.status, done: progress.done, total: progress.total };
}

type Run = { runId: string; workflowId: string; processKey: string };

/** Opens and skips the tasks whose turn came, until nothing more moves. */
async function advance(state: Omit<ProcessRunState, 'progress'>, run: Run, input: ProcessRunInput): Promise<void> {
  for (;;) {
    const moves = nextMoves(input.definition, state.tasks, input.inputs);
    if (!moves.open.length && !moves.skip.length) return;
    for (const task of moves.skip) {
      await actions.skipProcessTask({ ...run, taskId: task.id, kind: task.kind, title: task.title });
      Object.assign(state.tasks[task.id]!, { status: 'skipped', finishedAt: Date.now() });
    }
    for (const task of moves.open) {
      const dueAt = dueAtOf(task, state.startedAt, state.tasks);
      const t = Object.assign(state.tasks[task.id]!, { status: 'open', dueAt });
      const assignees = task.kind === 'approval' ? task.approvers : task.assignee ? [task.assignee] : [];
      const opened = await actions.openProcessTask({
        ...run, taskId: task.id, kind: task.kind, title: task.title, assignees, dueAt: dueAt === undefined ? undefined : new Date(dueAt).toISOString(),
      });
      t.slots = opened.slots;
    }
  }
}

/** Moves the ProcessTask and Assignee search attributes to the first open task and who holds it. */
function showNextTask(state: Omit<ProcessRunState, 'progress'>): void {
  const next = Object.values(state.tasks).find((t) => t.status === 'open');
  const holders = next ? holdersOf(next) : undefined;
  const assignee = holders?.userIds[0] ?? (holders?.roles[0] ? `role:${holders.roles[0]}` : undefined);
  const shown = workflowInfo().typedSearchAttributes;
  // Only a change is upserted: each upsert is an event in the run's history.
  if (shown.get(ProcessTaskKey) === next?.id && shown.get(Assignee) === assignee) return;
  upsertSearchAttributes([{ key: ProcessTaskKey, value: next?.id ?? null }, { key: Assignee, value: assignee ?? null }]);
}

function refuse(type: string, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ type, message, nonRetryable: true, details: details === undefined ? [] : [details] });
}

/** The actions a task's kind takes: checklist and form tasks are completed, approvals approved or rejected. */
const takes = (task: ProcessTask, action: ProcessTaskAction['action']) => (task.kind === 'approval' ? action !== 'complete' : action === 'complete');

/** Registers `actOnProcessTask`: its validator refuses a task not open, a caller who may not act, a wrong action or bad values. */
function registerActionHandler(
  state: Omit<ProcessRunState, 'progress'>, byId: Map<string, ProcessTask>, run: Run, review: JourneyReviewSubject | undefined, changed: () => void,
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
      refuse(ProcessTaskRefusal.fourEyes, `four eyes: whoever last edited the draft of journey "${review.journeyKey}" cannot approve its review`);
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
    if (task.kind === 'approval') {
      slot = slotFor(t.slots!, input.actor.userId)!;
      const outcome = approvalOutcome(task.mode, t.slots!.map((s) => (s === slot ? { ...s, decision: input.action as 'approve' | 'reject' } : s)));
      status = outcome === undefined ? 'open' : outcome === 'approve' ? 'approved' : 'rejected';
    }
    try {
      await actions.recordProcessTaskAction({ ...run, taskId: task.id, kind: task.kind, title: task.title, action: input.action, userId: input.actor.userId, values: input.values, comment: input.comment, status });
    } finally {
      inFlight.delete(key);
    }
    if (slot) Object.assign(slot, { decision: input.action, decidedBy: input.actor.userId });
    Object.assign(t, { status, values: { ...t.values, ...input.values } }, isFinished(status) ? { finishedAt: Date.now() } : {});
    if (task.kind === 'approval' && isFinished(status)) t.decision = status === 'approved' ? 'approve' : 'reject';
    changed();
    return { status };
  }, { validator: (input) => { check(input); } });
}

import { allHandlersFinished, condition, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { dueAtOf, dueBaseOf, holdersOf, isFinished, nextMoves, openingOf, orderedTasks, progressOf, type RunTask } from '../journey-language/interpreter';
import type { ProcessRunStatus } from '../db/schema';
import { actions } from './activities';
import { JOURNEY_REVIEW_PATCH } from './patches';
import { registerActionHandler, type ProcessRunRef } from './process-actions';
import { ProcessTimers } from './process-timers';
import { registerDueChangeHandler } from './process-due-changes';
import { runTaskAutomations } from './process-automations';
import { Assignee, ProcessTask as ProcessTaskKey, processRunStateQuery, type ProcessRunInput, type ProcessRunState } from './contract';

/**
 * A process run: one workflow per run (`process:<key>:<runId>`), not tied to a contact. It opens
 * tasks as their turn comes (stop tasks and `after` hold later ones back), skips conditional
 * tasks whose condition is false, takes completions, answers and decisions through the
 * `actOnProcessTask` update, takes due-time moves through `changeProcessTaskDue`, marks tasks overdue with durable timers, and ends when every task is
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

  const timers = new ProcessTimers(state.tasks, byId, run);
  registerDueChangeHandler(state, byId, run, timers, () => { changes++; });
  await actions.recordProcessRunStarted({ ...run, version: input.version });
  for (;;) {
    await runTaskAutomations(state, byId, run, input);
    await advance(state, run, input);
    showNextTask(state);
    const stopRejected = [...byId.values()].some((t) => t.stop && state.tasks[t.id]!.status === 'rejected');
    if (stopRejected || Object.values(state.tasks).every((t) => isFinished(t.status))) {
      state.status = stopRejected ? 'rejected' : 'completed';
      break;
    }
    // Due times, reminders and escalations: one durable timer to the next of them.
    timers.look(Date.now());
    const nextDue = timers.next();
    const woken = await condition(() => changes !== seen, nextDue === undefined ? undefined : Math.max(1, nextDue - Date.now()));
    seen = changes;
    // The timer fired: `nextDue` has come, even if the workflow clock reads a moment before it.
    if (!woken && nextDue !== undefined) await timers.fire(Math.max(Date.now(), nextDue));
  }
  // Decisions still being recorded finish first, so none is lost or recorded after the run ended.
  await condition(allHandlersFinished);
  for (const t of Object.values(state.tasks)) if (!isFinished(t.status)) t.status = 'cancelled';
  const progress = progressOf(definition, state.tasks);
  await actions.finishProcessRun({ ...run, status: state.status as 'completed' | 'rejected', done: progress.done, total: progress.total });
  // A review's end decides its subject: a journey review publishes exactly the reviewed draft (or records why not), a
  // template review approves or rejects the version. Only runs started with a review ask the patch. Journey reviews keep
  // the activity their histories recorded; template reviews (new, none before) conclude through `concludeReview`.
  if (input.review && patched(JOURNEY_REVIEW_PATCH)) {
    const end = { ...run, status: state.status as 'completed' | 'rejected', review: input.review };
    await (input.review.kind === 'template' ? actions.concludeReview(end) : actions.concludeJourneyReview(end));
  }
  return { status: state.status, done: progress.done, total: progress.total };
}

type Run = ProcessRunRef;

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
      // The assignees (a sequential approval's first stage, with `stage: 1`); the same input as before for every other task.
      // A business-day due time is counted by the activity, in the calendar's time zone.
      const businessDue = task.due?.businessDays && { from: new Date(dueBaseOf(task, state.startedAt, state.tasks)!).toISOString(), after: task.due.after, calendar: task.due.businessDays };
      const opened = await actions.openProcessTask({
        ...run, taskId: task.id, kind: task.kind, title: task.title, ...openingOf(task), dueAt: dueAt === undefined ? undefined : new Date(dueAt).toISOString(),
        ...(businessDue ? { businessDue } : {}),
      });
      t.slots = opened.slots;
      // Histories recorded before the activity answered with the due time replay with the workflow's own.
      if (opened.dueAt) t.dueAt = Date.parse(opened.dueAt);
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


import { allHandlersFinished, condition, patched, setHandler, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { dueAtOf, holdersOf, isFinished, nextMoves, orderedTasks, progressOf, type RunTask } from '../journey-language/interpreter';
import type { ProcessRunStatus } from '../db/schema';
import { actions } from './activities';
import { JOURNEY_REVIEW_PATCH } from './patches';
import { registerActionHandler, type ProcessRunRef } from './process-actions';
import { runTaskAutomations } from './process-automations';
import { Assignee, ProcessTask as ProcessTaskKey, processRunStateQuery, type ProcessRunInput, type ProcessRunState } from './contract';

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
    await runTaskAutomations(state, byId, run, input);
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


import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import {
  ApplicationFailure, WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client,
} from '@temporalio/client';
import type { Database } from '../../db/client';
import { processRuns, processTasks, type ProcessRow, type ProcessRunRow, type ProcessTaskRow } from '../../db/schema';
import { orderedTasks, validateValues, type FormProblem, type ProcessDefinition, type ProcessTaskStatus, type RunTask } from '../../journey-language';
import {
  actOnProcessTaskUpdate, changeProcessTaskDueUpdate, ProcessKey, ProcessTaskRefusal, processWorkflow,
  type ProcessRunInput, type ProcessTaskAction, type ProcessTaskDueChange, type ReviewSubject,
} from '../../workflows/contract';
import { digestOf } from '../audit/records';
import { conflict, DomainError, invalid, notFound } from '../lib/errors';
import { getProcess, getProcessVersion } from './definitions';

export interface ProcessDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

/**
 * How a run starts beyond its inputs: a given id (a review's, recorded first; a schedule's or an
 * event's, derived from what started it, so a retry finds the same run), and a review's subject.
 */
export interface RunStart {
  runId?: string;
  subject?: ReviewSubject;
}

const problemsAt = (prefix: string, problems: FormProblem[]) => problems.map((p) => ({ path: `${prefix}.${p.field}`, message: p.message }));

/**
 * Starts a run of the latest published version: its row, then its workflow
 * (`process:<key>:<runId>`). Inputs are checked against the definition's `inputs` (422 naming
 * each field); an unpublished process is a 409. With a given run id it is idempotent: a run
 * whose row exists already is that run (its workflow started if Temporal does not have it).
 */
export async function startRun(
  deps: ProcessDeps, key: string, inputs: Record<string, unknown>, startedBy: string, start: RunStart = {},
): Promise<ProcessRunRow> {
  const process = await getProcess(deps.db, key);
  if (start.runId) {
    const [existing] = await deps.db.select().from(processRuns).where(eq(processRuns.id, start.runId));
    if (existing) return startWorkflowOnce(deps, process, existing, start.subject);
  }
  if (process.latestVersion === null) throw conflict('process_not_published', `The process "${key}" has no published version yet`);
  const { definition, version } = await getProcessVersion(deps.db, process.id, process.latestVersion);
  // A review run's inputs name its subject; only those the definition declares are checked.
  const declared = start.subject ? Object.fromEntries(Object.entries(inputs).filter(([name]) => definition.inputs.some((f) => f.name === name))) : inputs;
  const problems = validateValues(definition.inputs, declared);
  if (problems.length) throw invalid('invalid_inputs', problems[0]!.message, problemsAt('body.inputs', problems));
  const runId = start.runId ?? randomUUID();
  const [inserted] = await deps.db.insert(processRuns).values({
    id: runId, processId: process.id, processKey: key, version, workflowId: `process:${key}:${runId}`, inputs, startedBy,
  }).onConflictDoNothing({ target: processRuns.id }).returning();
  const run = inserted ?? (await deps.db.select().from(processRuns).where(eq(processRuns.id, runId)))[0]!;
  return startWorkflowOnce(deps, process, run, start.subject);
}

/** Starts the run's workflow on its pinned version; a no-op when it runs or ran already, or the run ended. */
async function startWorkflowOnce(deps: ProcessDeps, process: ProcessRow, run: ProcessRunRow, subject?: ReviewSubject): Promise<ProcessRunRow> {
  if (run.status !== 'running') return run;
  const { definition, version } = await getProcessVersion(deps.db, process.id, run.version);
  const input: ProcessRunInput = { runId: run.id, processKey: run.processKey, version, definition, inputs: run.inputs, ...(subject ? { review: subject } : {}) };
  try {
    await deps.temporal.workflow.start(processWorkflow, {
      workflowId: run.workflowId, taskQueue: deps.taskQueue, args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING', workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [{ key: ProcessKey, value: run.processKey }],
      staticSummary: `Process "${process.name}" (${run.processKey} v${version}), run ${run.id}`,
      staticDetails: `Started by ${run.startedBy}. Tasks: ${orderedTasks(definition).map((t) => `${t.id} (${t.kind}${t.stop ? ', stop' : ''})`).join(' → ')}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return run;
}

export async function getRun(db: Database, key: string, runId: string): Promise<ProcessRunRow> {
  const [run] = await db.select().from(processRuns).where(and(eq(processRuns.id, runId), eq(processRuns.processKey, key)));
  if (!run) throw notFound('process_run', 'id', runId);
  return run;
}

export async function runTasks(db: Database, runId: string): Promise<ProcessTaskRow[]> {
  return db.select().from(processTasks).where(eq(processTasks.runId, runId)).orderBy(asc(processTasks.openedAt));
}

/** The run's definition, pinned to its version. */
export async function runDefinition(db: Database, run: ProcessRunRow): Promise<ProcessDefinition> {
  return (await getProcessVersion(db, run.processId, run.version)).definition;
}

/** The run's tasks as the progress functions read them, from the rows (a task without a row is pending, or cancelled once the run ended). */
export function runTaskStates(definition: ProcessDefinition, rows: ProcessTaskRow[], ended: boolean): Record<string, RunTask> {
  const byId = new Map(rows.map((r) => [r.taskId, r]));
  return Object.fromEntries(orderedTasks(definition).map((t) => {
    const row = byId.get(t.id);
    const status: ProcessTaskStatus = row?.status ?? (ended ? 'cancelled' : 'pending');
    const decided = new Map(row?.decisions.map((d) => [d.userId, d.decision]) ?? []);
    const slots = row?.assignees.map((s) => {
      const by = s.userIds.find((u) => decided.has(u));
      return { ...s, ...(by ? { decidedBy: by, decision: decided.get(by) } : {}) };
    });
    return [t.id, { id: t.id, status, overdue: !!row?.overdueAt && status === 'open', dueAt: row?.dueAt?.getTime(), slots, values: row?.values ?? {} }];
  }));
}

/**
 * Completes a checklist task, answers a form, or decides an approval for a user, through the
 * run's `actOnProcessTask` update (update id `<task>:<user>`, so a retry is the same update):
 * 403 if they may not, 409 if the task is not open, 422 naming each bad field.
 */
export async function actOnTask(deps: ProcessDeps, run: ProcessRunRow, action: Omit<ProcessTaskAction, 'actor'>, userId: string): Promise<ProcessTaskStatus> {
  const definition = await runDefinition(deps.db, run);
  if (run.status !== 'running') throw conflict('task_closed', `This run is ${run.status}`);
  if (!orderedTasks(definition).some((t) => t.id === action.taskId)) throw notFound('process_task', 'id', action.taskId);
  try {
    const result = await deps.temporal.workflow.getHandle(run.workflowId)
      .executeUpdate(actOnProcessTaskUpdate, { args: [{ ...action, actor: { userId } }], updateId: `${action.taskId}:${userId}` });
    return result.status;
  } catch (err) {
    throw mapRefusal(err);
  }
}

/**
 * Moves an open task's due time (an operator's change, `actor` `user:<id>` or `api_key:<id>`)
 * through the run's `changeProcessTaskDue` update: 404 for a task the run does not have, 409 when
 * it is not open or the run ended, 422 naming `body.dueAt` for a time that has passed. The update
 * id is the task, the due time it moves from and a digest of the request, so a retried request is
 * the same update; asking for the due time the task has already changes nothing.
 */
export async function changeTaskDue(deps: ProcessDeps, run: ProcessRunRow, change: Omit<ProcessTaskDueChange, 'actor'>, actor: string): Promise<void> {
  const definition = await runDefinition(deps.db, run);
  if (!orderedTasks(definition).some((t) => t.id === change.taskId)) throw notFound('process_task', 'id', change.taskId);
  if (run.status !== 'running') throw conflict('task_closed', `This run is ${run.status}`);
  if (change.dueAt !== null && Date.parse(change.dueAt) <= Date.now()) {
    throw invalid('due_in_past', 'The new due time has passed', [{ path: 'body.dueAt', message: 'The new due time has passed: give a time in the future (or null for none)' }]);
  }
  const [row] = await deps.db.select({ status: processTasks.status, dueAt: processTasks.dueAt }).from(processTasks)
    .where(and(eq(processTasks.runId, run.id), eq(processTasks.taskId, change.taskId)));
  if (row?.status !== 'open') throw conflict('task_closed', 'This task is not open');
  const dueAt = change.dueAt === null ? null : new Date(change.dueAt).toISOString();
  const current = row.dueAt?.toISOString() ?? null;
  if (current === dueAt) return;
  try {
    await deps.temporal.workflow.getHandle(run.workflowId).executeUpdate(changeProcessTaskDueUpdate, {
      args: [{ taskId: change.taskId, dueAt, reason: change.reason, actor }],
      updateId: `${change.taskId}:due:${digestOf({ current, dueAt, reason: change.reason, actor })}`,
    });
  } catch (err) {
    throw mapRefusal(err);
  }
}

function mapRefusal(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict('task_closed', 'This run has ended');
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return err;
  const failure = err.cause;
  switch (failure.type) {
    case ProcessTaskRefusal.notAllowed: return new DomainError(403, 'not_allowed', failure.message);
    case ProcessTaskRefusal.fourEyes: return new DomainError(403, 'four_eyes', failure.message, { rule: 'four_eyes' });
    case ProcessTaskRefusal.taskClosed: return conflict('task_closed', failure.message);
    case ProcessTaskRefusal.dueInPast: return invalid('due_in_past', failure.message, [{ path: 'body.dueAt', message: failure.message }]);
    case ProcessTaskRefusal.wrongAction: return invalid('wrong_action', failure.message, [{ path: 'body.action', message: failure.message }]);
    case ProcessTaskRefusal.invalidValues: {
      const problems = (failure.details?.[0] ?? []) as FormProblem[];
      return invalid('invalid_task_values', problems[0]?.message ?? failure.message, problemsAt('body.values', problems));
    }
    default: return err;
  }
}

import { randomUUID } from 'node:crypto';
import { and, asc, eq } from 'drizzle-orm';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { processRuns, processTasks, type ProcessRunRow, type ProcessTaskRow } from '../../db/schema';
import { orderedTasks, validateValues, type FormProblem, type ProcessDefinition, type ProcessTaskStatus, type RunTask } from '../../journey-language';
import {
  actOnProcessTaskUpdate, ProcessKey, ProcessTaskRefusal, processWorkflow, type ProcessRunInput, type ProcessTaskAction, type ReviewSubject,
} from '../../workflows/contract';
import { conflict, DomainError, invalid, notFound } from '../lib/errors';
import { getProcess, getProcessVersion } from './definitions';

export interface ProcessDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

/** A run that reviews a journey's draft or a template version: its id (the review's, recorded first) and what it decides on. */
export interface ReviewStart {
  runId: string;
  subject: ReviewSubject;
}

const problemsAt = (prefix: string, problems: FormProblem[]) => problems.map((p) => ({ path: `${prefix}.${p.field}`, message: p.message }));

/**
 * Starts a run of the latest published version: its row, then its workflow
 * (`process:<key>:<runId>`). Inputs are checked against the definition's `inputs` (422 naming
 * each field); an unpublished process is a 409.
 */
export async function startRun(
  deps: ProcessDeps, key: string, inputs: Record<string, unknown>, startedBy: string, review?: ReviewStart,
): Promise<ProcessRunRow> {
  const process = await getProcess(deps.db, key);
  if (process.latestVersion === null) throw conflict('process_not_published', `The process "${key}" has no published version yet`);
  const { definition, version } = await getProcessVersion(deps.db, process.id, process.latestVersion);
  // A review run's inputs name its subject; only those the definition declares are checked.
  const declared = review ? Object.fromEntries(Object.entries(inputs).filter(([name]) => definition.inputs.some((f) => f.name === name))) : inputs;
  const problems = validateValues(definition.inputs, declared);
  if (problems.length) throw invalid('invalid_inputs', problems[0]!.message, problemsAt('body.inputs', problems));
  const runId = review?.runId ?? randomUUID();
  const [run] = await deps.db.insert(processRuns).values({
    id: runId, processId: process.id, processKey: key, version, workflowId: `process:${key}:${runId}`, inputs, startedBy,
  }).returning();
  const input: ProcessRunInput = { runId, processKey: key, version, definition, inputs, ...(review ? { review: review.subject } : {}) };
  await deps.temporal.workflow.start(processWorkflow, {
    workflowId: run!.workflowId, taskQueue: deps.taskQueue, args: [input],
    typedSearchAttributes: [{ key: ProcessKey, value: key }],
    staticSummary: `Process "${process.name}" (${key} v${version}), run ${runId}`,
    staticDetails: `Tasks: ${orderedTasks(definition).map((t) => `${t.id} (${t.kind}${t.stop ? ', stop' : ''})`).join(' → ')}`,
  });
  return run!;
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

function mapRefusal(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict('task_closed', 'This run has ended');
  if (!(err instanceof WorkflowUpdateFailedError) || !(err.cause instanceof ApplicationFailure)) return err;
  const failure = err.cause;
  switch (failure.type) {
    case ProcessTaskRefusal.notAllowed: return new DomainError(403, 'not_allowed', failure.message);
    case ProcessTaskRefusal.fourEyes: return new DomainError(403, 'four_eyes', failure.message, { rule: 'four_eyes' });
    case ProcessTaskRefusal.taskClosed: return conflict('task_closed', failure.message);
    case ProcessTaskRefusal.wrongAction: return invalid('wrong_action', failure.message, [{ path: 'body.action', message: failure.message }]);
    case ProcessTaskRefusal.invalidValues: {
      const problems = (failure.details?.[0] ?? []) as FormProblem[];
      return invalid('invalid_task_values', problems[0]?.message ?? failure.message, problemsAt('body.values', problems));
    }
    default: return err;
  }
}

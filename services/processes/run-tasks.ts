import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processRuns, processTasks, users, type ProcessRunStatus } from '../../db/schema';
import type { ProcessAssignee, ProcessTaskKind, ProcessTaskStatus } from '../../journey-language';
import { appendAudit, digestOf } from '../audit/records';
import { findUserByEmail, usersInRole } from '../people/users';

/**
 * What a process run's workflow does to its rows, through activities: each write is idempotent
 * (by run and task, or by its audit key) and leaves one record in the run's audit chain, so a
 * retried activity changes and records nothing twice. Records hold ids and digests of answers,
 * never the answers (the rows hold those).
 */
export interface RunRef {
  runId: string;
  workflowId: string;
  processKey: string;
}

export interface TaskRef extends RunRef {
  taskId: string;
  kind: ProcessTaskKind;
  title: string;
}

/** One record in the run's chain, idempotent by `<workflowId>:<suffix>`. */
export async function auditRun(db: Database, run: RunRef, action: string, outcome: string, suffix: string, details: Record<string, unknown>, task?: { taskId: string; kind?: string }, actor = 'process') {
  await appendAudit(db, {
    actor, action, outcome, processRunId: run.runId, workflowId: run.workflowId, stepId: task?.taskId, stepType: task?.kind,
    idempotencyKey: `${run.workflowId}:${suffix}`, details: { processKey: run.processKey, runId: run.runId, ...details },
  });
}

export async function recordRunStarted(db: Database, run: RunRef & { version: number }): Promise<void> {
  const [row] = await db.select({ inputs: processRuns.inputs, startedBy: processRuns.startedBy }).from(processRuns).where(eq(processRuns.id, run.runId));
  await auditRun(db, run, 'process.run_started', 'running', 'started', { version: run.version, startedBy: row?.startedBy ?? null, inputsDigest: digestOf(row?.inputs ?? {}) });
}

/** The people one assignee names, now: a user (by email or id) or a role's members. */
async function resolve(db: Database, who: ProcessAssignee): Promise<{ userIds: string[]; role?: string }> {
  if ('role' in who) return { userIds: (await usersInRole(db, who.role)).map((u) => u.id), role: who.role };
  if ('user' in who) {
    const user = await findUserByEmail(db, who.user);
    return { userIds: user ? [user.id] : [] };
  }
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, who.userId));
  return { userIds: user ? [user.id] : [] };
}

/** Opens a task once: its row, who may act (one slot per assignee), its due time; audited. */
export async function openRunTask(db: Database, input: TaskRef & { assignees: ProcessAssignee[]; dueAt?: string }): Promise<{ slots: Array<{ userIds: string[]; role?: string }> }> {
  const slots = [];
  for (const who of input.assignees) slots.push(await resolve(db, who));
  await db.insert(processTasks).values({
    runId: input.runId, taskId: input.taskId, kind: input.kind, title: input.title, status: 'open', assignees: slots,
    dueAt: input.dueAt ? new Date(input.dueAt) : null, openedAt: sql`now()`,
  }).onConflictDoNothing();
  const [row] = await db.select({ assignees: processTasks.assignees }).from(processTasks)
    .where(and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId)));
  await auditRun(db, input, 'process.task_opened', 'open', `${input.taskId}:opened`, { assignees: row!.assignees, dueAt: input.dueAt ?? null }, input);
  return { slots: row!.assignees };
}

/** Skips a conditional task whose condition was false when its turn came; audited. */
export async function skipRunTask(db: Database, input: TaskRef): Promise<void> {
  await db.insert(processTasks).values({ runId: input.runId, taskId: input.taskId, kind: input.kind, title: input.title, status: 'skipped', finishedAt: sql`now()` })
    .onConflictDoNothing();
  await auditRun(db, input, 'process.task_skipped', 'skipped', `${input.taskId}:skipped`, { reason: 'its condition was false' }, input);
}

export interface RecordedAction extends TaskRef {
  action: 'complete' | 'approve' | 'reject';
  userId: string;
  values: Record<string, unknown>;
  comment?: string;
  /** The task's status after this action (an approval may still wait for other approvers). */
  status: Exclude<ProcessTaskStatus, 'pending'>;
}

const ACTION_NAMES: Record<ProcessTaskKind, string> = { checklist: 'process.task_completed', form: 'process.task_answered', approval: 'process.task_decided' };

/** Stores a completion, an answer or one approver's decision (once per task and user) and audits it. */
export async function recordRunTaskAction(db: Database, input: RecordedAction): Promise<void> {
  const finished = input.status !== 'open';
  const decision = input.action === 'complete' ? [] : [{ userId: input.userId, decision: input.action, at: new Date().toISOString(), ...(input.comment ? { comment: input.comment } : {}) }];
  const where = and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId));
  await db.transaction(async (tx) => {
    const [row] = await tx.select().from(processTasks).where(where).for('update');
    if (!row || row.decisions.some((d) => d.userId === input.userId) || (row.status !== 'open' && row.completedBy === input.userId)) return;
    await tx.update(processTasks).set({
      status: input.status, values: input.values, completedBy: input.userId, decisions: [...row.decisions, ...decision],
      finishedAt: finished ? sql`now()` : null,
    }).where(where);
  });
  const outcome = input.action === 'complete' ? 'done' : input.action === 'approve' ? 'approved' : 'rejected';
  await auditRun(db, input, ACTION_NAMES[input.kind], outcome, `${input.taskId}:${input.action}:${input.userId}`, {
    valuesDigest: digestOf(input.values), commentDigest: input.comment === undefined ? null : digestOf(input.comment), taskStatus: input.status,
  }, input, `user:${input.userId}`);
  if (input.kind === 'approval' && finished) await auditRun(db, input, `process.approval_${input.status}`, input.status, `${input.taskId}:finished`, {}, input);
}

/** Marks open tasks past their due time as overdue (once each); audited. */
export async function markRunTasksOverdue(db: Database, input: RunRef & { taskIds: string[] }): Promise<void> {
  if (!input.taskIds.length) return;
  await db.update(processTasks).set({ overdueAt: sql`now()` })
    .where(and(eq(processTasks.runId, input.runId), inArray(processTasks.taskId, input.taskIds), isNull(processTasks.overdueAt)));
  for (const taskId of input.taskIds) {
    await auditRun(db, input, 'process.task_overdue', 'overdue', `${taskId}:overdue`, {}, { taskId });
  }
}

/** Ends the run: tasks still open are cancelled (a rejected stop task ends it early); audited. */
export async function finishRun(db: Database, input: RunRef & { status: Exclude<ProcessRunStatus, 'running'>; done: number; total: number }): Promise<void> {
  await db.update(processTasks).set({ status: 'cancelled', finishedAt: sql`now()` }).where(and(eq(processTasks.runId, input.runId), eq(processTasks.status, 'open')));
  await db.update(processRuns).set({ status: input.status, endedAt: sql`coalesce(${processRuns.endedAt}, now())` }).where(eq(processRuns.id, input.runId));
  await auditRun(db, input, `process.run_${input.status}`, input.status, 'finished', { done: input.done, total: input.total });
}

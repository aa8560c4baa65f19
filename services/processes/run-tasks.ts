import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processRuns, processTasks, type ProcessRunStatus } from '../../db/schema';
import type { ProcessAssignee, ProcessTaskKind, ProcessTaskStatus } from '../../journey-language';
import { appendAudit, digestOf } from '../audit/records';
import { resolveSlots, type TaskSlot } from './assignees';
import { businessDueAt, type BusinessDue } from './business-days';

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

/** A task that opened already (a retried activity): its slots stand, the rotation is not turned again. */
class AlreadyOpen extends Error {}

/** Round-robin picks are audited, each once: who the rotation gave the task (or stage) to. */
async function auditPicks(db: Database, input: TaskRef, slots: TaskSlot[], stage?: number): Promise<void> {
  for (const [n, slot] of slots.entries()) {
    if (slot.rotation === undefined) continue;
    await auditRun(db, input, 'process.assignee_picked', slot.userIds.length ? 'picked' : 'nobody', `${input.taskId}${stage ? `:stage:${stage}` : ''}:picked:${n}`,
      { rotation: slot.rotation, slot: n, userId: slot.userIds[0] ?? null, ...(stage ? { stage } : {}) }, input);
  }
  // A slot nobody fills (a role with no members left, everyone in it decided an earlier stage)
  // holds the task until an escalation fills it: the chain says so, for whoever looks for stuck runs.
  const empty = slots.flatMap((slot, n) => (slot.userIds.length ? [] : [n]));
  if (empty.length) {
    await auditRun(db, input, 'process.task_unstaffed', 'unstaffed', `${input.taskId}${stage ? `:stage:${stage}` : ''}:unstaffed`,
      { slots: empty, ...(stage ? { stage } : {}) }, input);
  }
}

/**
 * Opens a task once: its row, who may act (one slot per assignee; round-robin assignees take
 * their rotation's next turn in the same transaction, so a retry picks nobody again), its due
 * time (a business-day due time is counted here, in its calendar's time zone); audited. A
 * sequential approval opens at `stage` 1, audited as that stage's opening. Answers the slots and
 * the due time.
 */
export async function openRunTask(
  db: Database, input: TaskRef & { assignees: ProcessAssignee[]; stage?: number; dueAt?: string; businessDue?: BusinessDue },
): Promise<{ slots: TaskSlot[]; dueAt?: string }> {
  const where = and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId));
  const opened = async () => (await db.select({ assignees: processTasks.assignees, dueAt: processTasks.dueAt }).from(processTasks).where(where))[0];
  const dueAt = input.businessDue ? businessDueAt(input.businessDue) : input.dueAt;
  if (!(await opened())) {
    await db.transaction(async (tx) => {
      const slots = await resolveSlots(tx, input, input.assignees);
      const inserted = await tx.insert(processTasks).values({
        runId: input.runId, taskId: input.taskId, kind: input.kind, title: input.title, status: 'open', assignees: slots,
        dueAt: dueAt ? new Date(dueAt) : null, openedAt: sql`now()`,
      }).onConflictDoNothing().returning({ id: processTasks.id });
      // A concurrent attempt opened it first: this one's turns are given back.
      if (!inserted.length) throw new AlreadyOpen();
    }).catch((err: unknown) => { if (!(err instanceof AlreadyOpen)) throw err; });
  }
  const row = (await opened())!;
  const slots = row.assignees;
  const stored = row.dueAt?.toISOString();
  await auditRun(db, input, 'process.task_opened', 'open', `${input.taskId}:opened`, { assignees: slots, dueAt: stored ?? null }, input);
  if (input.stage) await auditRun(db, input, 'process.approval_stage_opened', 'open', `${input.taskId}:stage:${input.stage}:opened`, { stage: input.stage, assignees: slots }, input);
  await auditPicks(db, input, slots, input.stage);
  return { slots, ...(stored ? { dueAt: stored } : {}) };
}

/**
 * Opens the next stage of a sequential approval once its stage before approved: the task's slots
 * become this stage's, resolved now without whoever decided an earlier stage (nobody decides
 * twice); audited. A retry finds the stage open and returns its slots.
 */
export async function openApprovalStage(db: Database, input: TaskRef & { stage: number; assignees: ProcessAssignee[] }): Promise<{ slots: TaskSlot[] }> {
  const where = and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId));
  const slots = await db.transaction(async (tx) => {
    const [row] = await tx.select({ assignees: processTasks.assignees, decisions: processTasks.decisions }).from(processTasks).where(where).for('update');
    if (!row) throw new Error(`task "${input.taskId}" of run ${input.runId} has not opened`);
    if ((row.assignees[0]?.stage ?? 0) >= input.stage) return row.assignees;
    const next = await resolveSlots(tx, { ...input, stage: input.stage }, input.assignees, row.decisions.map((d) => d.userId));
    await tx.update(processTasks).set({ assignees: next }).where(where);
    return next;
  });
  await auditRun(db, input, 'process.approval_stage_opened', 'open', `${input.taskId}:stage:${input.stage}:opened`, { stage: input.stage, assignees: slots }, input);
  await auditPicks(db, input, slots, input.stage);
  return { slots };
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
  /** The task's status after this action (an approval may still wait for other approvers, or its next stage). */
  status: Exclude<ProcessTaskStatus, 'pending'>;
  /** A sequential approval's stage the decision is in, and that stage's outcome once decided. */
  stage?: { number: number; outcome?: 'approved' | 'rejected' };
}

const ACTION_NAMES: Record<ProcessTaskKind, string> = { checklist: 'process.task_completed', form: 'process.task_answered', approval: 'process.task_decided' };

/** Stores a completion, an answer or one approver's decision (once per task and user) and audits it. */
export async function recordRunTaskAction(db: Database, input: RecordedAction): Promise<void> {
  const finished = input.status !== 'open';
  const decision = input.action === 'complete' ? [] : [{
    userId: input.userId, decision: input.action, at: new Date().toISOString(), ...(input.comment ? { comment: input.comment } : {}), ...(input.stage ? { stage: input.stage.number } : {}),
  }];
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
    ...(input.stage ? { stage: input.stage.number } : {}),
  }, input, `user:${input.userId}`);
  const stage = input.stage;
  if (stage?.outcome) await auditRun(db, input, `process.approval_stage_${stage.outcome}`, stage.outcome, `${input.taskId}:stage:${stage.number}:${stage.outcome}`, { stage: stage.number }, input);
  if (input.kind === 'approval' && finished) await auditRun(db, input, `process.approval_${input.status}`, input.status, `${input.taskId}:finished`, {}, input);
}

/**
 * Marks open tasks past their due time as overdue (once each per due time); audited. A task whose
 * due time was moved (`dueChanges`: how often) is late anew: its record's key and details name the change.
 */
export async function markRunTasksOverdue(db: Database, input: RunRef & { taskIds: string[]; dueChanges?: Record<string, number> }): Promise<void> {
  if (!input.taskIds.length) return;
  await db.update(processTasks).set({ overdueAt: sql`now()` })
    .where(and(eq(processTasks.runId, input.runId), inArray(processTasks.taskId, input.taskIds), isNull(processTasks.overdueAt)));
  for (const taskId of input.taskIds) {
    const change = input.dueChanges?.[taskId];
    await auditRun(db, input, 'process.task_overdue', 'overdue', `${taskId}:overdue${change ? `:after-due-change:${change}` : ''}`, change ? { dueChange: change } : {}, { taskId });
  }
}

/** Ends the run: tasks still open are cancelled (a rejected stop task ends it early); audited. */
export async function finishRun(db: Database, input: RunRef & { status: Exclude<ProcessRunStatus, 'running'>; done: number; total: number }): Promise<void> {
  await db.update(processTasks).set({ status: 'cancelled', finishedAt: sql`now()` }).where(and(eq(processTasks.runId, input.runId), eq(processTasks.status, 'open')));
  await db.update(processRuns).set({ status: input.status, endedAt: sql`coalesce(${processRuns.endedAt}, now())` }).where(eq(processRuns.id, input.runId));
  await auditRun(db, input, `process.run_${input.status}`, input.status, 'finished', { done: input.done, total: input.total });
}


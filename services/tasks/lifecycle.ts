import { and, eq, inArray, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { tasks, type TaskRow } from '../../db/schema';
import type { Principal } from '../../journey-language';
import { SANDBOX_APPROVER_PREFIX } from '../../workflows/contract';
import { appendAudit, digestOf } from '../audit/records';
import { getUser } from '../people/users';
import { emailLinks, getTask, markTask, resolvePrincipal, sandboxed, type TaskDeps } from './tasks';

/**
 * What happens to an approval task after it opens, as its journey asks: a reminder, an
 * escalation, expiry, cancellation, the decision. Each is recorded in the audit once per key, so
 * a retried activity changes and records nothing twice.
 */
export interface TaskEvent {
  taskId: string;
  idempotencyKey: string;
  expiresAt: string;
}

/** A task's audit record, in its enrolment's chain; a test task's records are marked as such. */
async function auditTask(db: Database, task: TaskRow, action: string, outcome: string, key: string, details: Record<string, unknown>, actor = 'journey') {
  await appendAudit(db, {
    actor, action, outcome, contactId: task.contactId, journeyKey: task.journeyKey, enrolmentId: task.enrolmentId,
    workflowId: task.workflowId, stepId: task.stepId, stepType: task.stepType, idempotencyKey: key, test: task.test,
    details: { taskId: task.id, ...details, ...sandboxed(task) },
  });
}

/** Who holds a task now, by its row: its assigned user, or its role's members. */
async function holdersOf(db: Database, task: TaskRow): Promise<{ userIds: string[]; emails: Array<{ id: string; email: string }> }> {
  if (task.assigneeUserId) {
    const user = await getUser(db, task.assigneeUserId);
    return { userIds: [user.id], emails: [{ id: user.id, email: user.email }] };
  }
  return task.assigneeRole ? resolvePrincipal(db, { role: task.assigneeRole }) : { userIds: [], emails: [] };
}

/**
 * Reminds the approvers of an open task (email with their link), once: `assignee`'s people, or
 * without it (a task step's task) whoever holds the task.
 */
export async function remindTask(deps: TaskDeps, input: TaskEvent & { assignee?: Principal }): Promise<{ reminded: boolean }> {
  const task = await getTask(deps.db, input.taskId);
  if (task.status !== 'open') return { reminded: false };
  const people = input.assignee ? await resolvePrincipal(deps.db, input.assignee) : await holdersOf(deps.db, task);
  await emailLinks(deps, task, people.emails, new Date(input.expiresAt), 'reminder');
  await markTask(deps.db, task.id, { remindedAt: task.remindedAt ?? new Date() });
  await auditTask(deps.db, task, 'task.reminded', 'reminded', `${input.idempotencyKey}:reminded`, { to: people.userIds });
  return { reminded: true };
}

/** Escalates an open task: the escalation target may now decide too, and gets a link. */
export async function escalateTask(deps: TaskDeps, input: TaskEvent & { escalateTo: Principal }) {
  const task = await getTask(deps.db, input.taskId);
  if (task.status !== 'open') return { escalated: false, userIds: [] as string[] };
  const people = await resolvePrincipal(deps.db, input.escalateTo);
  const escalated = await markTask(deps.db, task.id, { escalatedAt: task.escalatedAt ?? new Date() });
  await emailLinks(deps, escalated, people.emails, new Date(input.expiresAt), 'escalated');
  await auditTask(deps.db, escalated, 'task.escalated', 'escalated', `${input.idempotencyKey}:escalated`, { to: input.escalateTo, approvers: people.userIds });
  return { escalated: true, userIds: people.userIds, role: people.role };
}

/** Closes a task nobody decided yet (open, accepted, or claimed by a decision in flight) as expired or cancelled. */
async function closeUndecided(db: Database, taskId: string, status: 'expired' | 'cancelled'): Promise<TaskRow> {
  const [row] = await db.update(tasks).set({ status }).where(and(eq(tasks.id, taskId), inArray(tasks.status, ['open', 'accepted', 'deciding']))).returning();
  return row ?? getTask(db, taskId);
}

/** Expires a task nobody decided in time. */
export async function expireTask(db: Database, input: TaskEvent): Promise<void> {
  await auditTask(db, await closeUndecided(db, input.taskId, 'expired'), 'task.expired', 'expired', `${input.idempotencyKey}:expired`, {});
}

/** Closes a task whose enrolment ended (goal, exit, cancel) before a decision. */
export async function cancelTask(db: Database, input: { taskId: string; idempotencyKey: string; reason: string }): Promise<void> {
  await auditTask(db, await closeUndecided(db, input.taskId, 'cancelled'), 'task.cancelled', 'cancelled', `${input.idempotencyKey}:cancelled`, { reason: input.reason });
}

/**
 * Stores that a task step's holder accepted the task (a decline in flight may hold the row's
 * claim), and from then on it is due at the completion deadline (`completeBy`); audits it once.
 */
export async function recordAcceptance(db: Database, input: { taskId: string; idempotencyKey: string; userId: string; completeBy?: string }): Promise<void> {
  const [accepted] = await db.update(tasks).set({
    status: 'accepted', acceptedBy: input.userId, acceptedAt: sql`now()`, ...(input.completeBy ? { dueAt: new Date(input.completeBy) } : {}),
  })
    .where(and(eq(tasks.id, input.taskId), inArray(tasks.status, ['open', 'deciding']), isNull(tasks.acceptedBy))).returning();
  await auditTask(db, accepted ?? await getTask(db, input.taskId), 'task.accepted', 'accepted', `${input.idempotencyKey}:accepted`,
    { acceptedBy: input.userId }, `user:${input.userId}`);
}

export interface RecordedDecision {
  taskId: string;
  idempotencyKey: string;
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
  userId: string;
}

/**
 * Stores the accepted decision (who, which values) and audits it; a test run's sandbox approver
 * is no user. The record holds digests of the values and the comment, not them: an approver may
 * write about the contact, and the audit trail cannot forget (the task row holds them until erasure).
 */
export async function recordDecision(db: Database, input: RecordedDecision): Promise<void> {
  const synthetic = input.userId.startsWith(SANDBOX_APPROVER_PREFIX);
  const [decided] = await db.update(tasks).set({
    status: input.decision === 'approve' ? 'approved' : 'rejected', decision: input.decision, values: input.values,
    comment: input.comment ?? null, decidedBy: synthetic ? null : input.userId, decidedAt: sql`now()`,
  }).where(eq(tasks.id, input.taskId)).returning();
  await auditTask(db, decided ?? await getTask(db, input.taskId), 'task.decided', input.decision === 'approve' ? 'approved' : 'rejected', `${input.idempotencyKey}:decided`,
    { decidedBy: input.userId, valuesDigest: digestOf(input.values), commentDigest: input.comment === undefined ? null : digestOf(input.comment) },
    synthetic ? input.userId : `user:${input.userId}`);
}

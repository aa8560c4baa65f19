import { and, eq, inArray, sql } from 'drizzle-orm';
import { tasks, type TaskRow } from '../db/schema';
import { appendAudit } from '../services/audit/records';
import { createTask, emailLinks, getTask, markTask, resolvePrincipal, sandboxed, type NewTask } from '../services/tasks/tasks';
import type { Principal } from '../journey-language';
import { SANDBOX_APPROVER_PREFIX } from '../workflows/contract';
import type { ActivityDeps } from './index';

export interface TaskEventInput {
  taskId: string;
  idempotencyKey: string;
  expiresAt: string;
}

export function createTaskActivities(deps: ActivityDeps) {
  const taskDeps = { db: deps.db, mailer: deps.mailer, email: deps.email };
  const audit = async (task: TaskRow, action: string, outcome: string, key: string, details: Record<string, unknown>, actor = 'journey') => {
    await appendAudit(deps.db, {
      actor, action, outcome, contactId: task.contactId, journeyKey: task.journeyKey, enrolmentId: task.enrolmentId,
      workflowId: task.workflowId, stepId: task.stepId, stepType: 'approval', idempotencyKey: key, test: task.test,
      details: { taskId: task.id, ...details, ...sandboxed(task) },
    });
  };
  return {
    /** Creates the approval task (once per key) and emails its approvers their links. */
    createTask: (input: NewTask) => createTask(taskDeps, input),

    /** Reminds the approvers of an open task (email with their link), once. */
    async remindTask(input: TaskEventInput & { assignee: Principal }) {
      const task = await getTask(deps.db, input.taskId);
      if (task.status !== 'open') return { reminded: false };
      const people = await resolvePrincipal(deps.db, input.assignee);
      await emailLinks(taskDeps, task, people.emails, new Date(input.expiresAt), 'reminder');
      await markTask(deps.db, task.id, { remindedAt: task.remindedAt ?? new Date() });
      await audit(task, 'task.reminded', 'reminded', `${input.idempotencyKey}:reminded`, { to: people.userIds });
      return { reminded: true };
    },

    /** Escalates an open task: the escalation target may now decide too, and gets a link. */
    async escalateTask(input: TaskEventInput & { escalateTo: Principal }) {
      const task = await getTask(deps.db, input.taskId);
      if (task.status !== 'open') return { escalated: false, userIds: [] as string[] };
      const people = await resolvePrincipal(deps.db, input.escalateTo);
      const escalated = await markTask(deps.db, task.id, { escalatedAt: task.escalatedAt ?? new Date() });
      await emailLinks(taskDeps, escalated, people.emails, new Date(input.expiresAt), 'escalated');
      await audit(escalated, 'task.escalated', 'escalated', `${input.idempotencyKey}:escalated`, { to: input.escalateTo, approvers: people.userIds });
      return { escalated: true, userIds: people.userIds, role: people.role };
    },

    /** Expires a task nobody decided in time. */
    async expireTask(input: TaskEventInput) {
      const [row] = await deps.db.update(tasks).set({ status: 'expired' }).where(and(eq(tasks.id, input.taskId), inArray(tasks.status, ['open', 'deciding']))).returning();
      await audit(row ?? await getTask(deps.db, input.taskId), 'task.expired', 'expired', `${input.idempotencyKey}:expired`, {});
    },

    /** Closes a task whose enrolment ended (goal, exit, cancel) before a decision. */
    async cancelTask(input: { taskId: string; idempotencyKey: string; reason: string }) {
      const [row] = await deps.db.update(tasks).set({ status: 'cancelled' }).where(and(eq(tasks.id, input.taskId), inArray(tasks.status, ['open', 'deciding']))).returning();
      await audit(row ?? await getTask(deps.db, input.taskId), 'task.cancelled', 'cancelled', `${input.idempotencyKey}:cancelled`, { reason: input.reason });
    },

    /** Stores the accepted decision (who, which values) and audits it; a test run's sandbox approver is no user. */
    async recordDecision(input: { taskId: string; idempotencyKey: string; decision: 'approve' | 'reject'; values: Record<string, unknown>; comment?: string; userId: string }) {
      const synthetic = input.userId.startsWith(SANDBOX_APPROVER_PREFIX);
      const [decided] = await deps.db.update(tasks).set({
        status: input.decision === 'approve' ? 'approved' : 'rejected', decision: input.decision, values: input.values,
        comment: input.comment ?? null, decidedBy: synthetic ? null : input.userId, decidedAt: sql`now()`,
      }).where(eq(tasks.id, input.taskId)).returning();
      await audit(decided ?? await getTask(deps.db, input.taskId), 'task.decided', input.decision === 'approve' ? 'approved' : 'rejected', `${input.idempotencyKey}:decided`,
        { decidedBy: input.userId, values: input.values, comment: input.comment ?? null }, synthetic ? input.userId : `user:${input.userId}`);
    },
  };
}

import { and, eq } from 'drizzle-orm';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { tasks, type TaskRow } from '../db/schema';
import { validateValues, type FormField, type FormProblem } from '../journey-language';
import { decideTaskUpdate, DecisionRefusal, type DecisionInput } from '../workflows/contract';
import { conflict, DomainError, invalid } from './errors';
import { getTask, mayDecide } from './tasks';

export interface Decision {
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
}

/**
 * Decides a task for a user: 403 if they may not, 409 if it is closed or another decision is
 * under way, 422 naming each bad field. Exactly one of concurrent completions wins: the task row
 * is claimed (`open` → `deciding`) first. Then the journey's Update runs, with the task id as
 * its update id; the answer comes once the journey has accepted and recorded the decision.
 */
export async function completeTask(
  deps: { db: Database; temporal: Client }, user: { id: string; roles: string[] }, taskId: string, decision: Decision,
): Promise<TaskRow> {
  const task = await getTask(deps.db, taskId);
  if (!mayDecide(task, user)) throw new DomainError(403, 'not_allowed', 'Only the assigned approver or the escalation target may decide this task');
  if (task.status !== 'open') throw conflict('task_closed', `This task is ${task.status} already`, { status: task.status });
  const problems = validateValues(task.fields as FormField[], decision.values);
  if (problems.length) {
    throw invalid('invalid_task_values', problems[0]!.message, problems.map((p) => ({ path: `body.values.${p.field}`, message: p.message })));
  }
  const claimed = await deps.db.update(tasks).set({ status: 'deciding' })
    .where(and(eq(tasks.id, taskId), eq(tasks.status, 'open'))).returning({ id: tasks.id });
  if (!claimed.length) throw conflict('task_closed', 'Another decision on this task is under way or done');
  const input: DecisionInput = { taskId, decision: decision.decision, values: decision.values, comment: decision.comment, actor: { userId: user.id, roles: user.roles } };
  try {
    await deps.temporal.workflow.getHandle(task.workflowId).executeUpdate(decideTaskUpdate, { args: [input], updateId: task.id });
  } catch (err) {
    await deps.db.update(tasks).set({ status: 'open' }).where(and(eq(tasks.id, taskId), eq(tasks.status, 'deciding')));
    throw mapUpdateError(err);
  }
  return getTask(deps.db, taskId);
}

function mapUpdateError(err: unknown): unknown {
  if (err instanceof WorkflowNotFoundError) return conflict('task_closed', 'The journey of this task has ended');
  if (!(err instanceof WorkflowUpdateFailedError)) return err;
  const failure = err.cause;
  if (!(failure instanceof ApplicationFailure)) return err;
  switch (failure.type) {
    case DecisionRefusal.notAllowed:
      return new DomainError(403, 'not_allowed', failure.message);
    case DecisionRefusal.invalidValues: {
      const problems = (failure.details?.[0] ?? []) as FormProblem[];
      return invalid('invalid_task_values', problems[0]?.message ?? failure.message, problems.map((p) => ({ path: `body.values.${p.field}`, message: p.message })));
    }
    case DecisionRefusal.taskClosed:
      return conflict('task_closed', failure.message);
    default:
      return err;
  }
}

import { and, eq, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { ApplicationFailure, WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { tasks, type TaskRow } from '../../db/schema';
import { validateValues, type FormField, type FormProblem } from '../../journey-language';
import { decideTaskUpdate, DecisionRefusal, type DecisionInput, type DecisionResult } from '../../workflows/contract';
import { conflict, DomainError, invalid } from '../lib/errors';
import { getTask, mayDecide } from './tasks';

export interface Decision {
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
}

/**
 * How long a decision may hold its claim on a task. The journey answers in seconds; a claim
 * older than this was left by a crash between the claim and the update, and may be taken over.
 */
const CLAIM_SECONDS = 60;

/**
 * Decides a task for a user: 403 if they may not, 409 if it is closed or another decision is
 * under way, 422 naming each bad field. Exactly one of concurrent completions wins: the task row
 * is claimed (`open` → `deciding`, or a claim left for more than a minute) first. Then the
 * journey's Update runs, with the task id as its update id, so a decision re-run after a crash
 * is the same update: Temporal answers it with the first delivery's outcome, never a second
 * decision. The answer comes once the journey has accepted and recorded the decision; a 409 if
 * that was an earlier decision than the caller's.
 */
export async function completeTask(
  deps: { db: Database; temporal: Client }, user: { id: string; roles: string[] }, taskId: string, decision: Decision,
): Promise<TaskRow> {
  const task = await getTask(deps.db, taskId);
  if (!mayDecide(task, user)) throw new DomainError(403, 'not_allowed', 'Only the assigned approver or the escalation target may decide this task');
  if (task.status !== 'open' && task.status !== 'accepted' && task.status !== 'deciding') throw conflict('task_closed', `This task is ${task.status} already`, { status: task.status });
  if (task.acceptBy && !task.acceptedBy && decision.decision === 'approve') throw conflict('task_not_accepted', 'Accept this task (POST /v1/tasks/:id/accept) before completing it');
  // Declining a task step's task asks for no form.
  const problems = task.acceptBy && decision.decision === 'reject' ? [] : validateValues(task.fields as FormField[], decision.values);
  if (problems.length) {
    throw invalid('invalid_task_values', problems[0]!.message, problems.map((p) => ({ path: `body.values.${p.field}`, message: p.message })));
  }
  const abandoned = or(isNull(tasks.decidingSince), lt(tasks.decidingSince, sql`now() - make_interval(secs => ${CLAIM_SECONDS})`));
  const claimed = await deps.db.update(tasks).set({ status: 'deciding', decidingSince: sql`now()` })
    .where(and(eq(tasks.id, taskId), or(inArray(tasks.status, ['open', 'accepted']), and(eq(tasks.status, 'deciding'), abandoned)))).returning({ id: tasks.id });
  if (!claimed.length) throw conflict('task_closed', 'Another decision on this task is under way or done');
  const input: DecisionInput = { taskId, decision: decision.decision, values: decision.values, comment: decision.comment, actor: { userId: user.id } };
  let result: DecisionResult;
  try {
    result = await deps.temporal.workflow.getHandle(task.workflowId).executeUpdate(decideTaskUpdate, { args: [input], updateId: task.id });
  } catch (err) {
    // Back to open, or to accepted for a task step's accepted task.
    await deps.db.update(tasks).set({ status: sql`case when ${tasks.acceptedBy} is null then 'open' else 'accepted' end`, decidingSince: null })
      .where(and(eq(tasks.id, taskId), eq(tasks.status, 'deciding')));
    throw mapUpdateError(err);
  }
  // The journey recorded the decision (its activity settles the row); a row still claimed is settled here.
  await deps.db.update(tasks).set({ status: result.status }).where(and(eq(tasks.id, taskId), eq(tasks.status, 'deciding')));
  const decided = await getTask(deps.db, taskId);
  if (decided.decidedBy !== user.id || decided.decision !== decision.decision) {
    throw conflict('task_closed', 'An earlier decision on this task was recorded', { status: decided.status });
  }
  return decided;
}

/** The API's answer to a journey's refusal of a decision or an acceptance: 403, 409 or 422. */
export function mapUpdateError(err: unknown): unknown {
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
    case DecisionRefusal.notAccepted:
      return conflict('task_not_accepted', failure.message);
    default:
      return err;
  }
}

import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processTasks } from '../../db/schema';
import { auditRun, type TaskRef } from './run-tasks';

/** One move of an open task's due time, as the run's workflow records it. */
export interface DueChange extends TaskRef {
  /** Which change of this task's due time (1, 2, …): the record's key. */
  change: number;
  /** The due time before and after (ISO), null for none. */
  from: string | null;
  dueAt: string | null;
  reason: string;
  /** `user:<id>` or `api_key:<id>`. */
  actor: string;
}

/**
 * Moves a task's due time in its row and clears its overdue mark (the new due time is in the
 * future, or there is none), then records `process.task_due_changed` in the run's chain, keyed
 * `<workflowId>:<task>:due:<n>`: a retried activity writes the same row and records nothing twice.
 * The reason is stored as written (an operator's note on the schedule, not personal data).
 */
export async function changeRunTaskDue(db: Database, input: DueChange): Promise<void> {
  await db.update(processTasks).set({ dueAt: input.dueAt ? new Date(input.dueAt) : null, overdueAt: null })
    .where(and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId), eq(processTasks.status, 'open')));
  await auditRun(db, input, 'process.task_due_changed', 'changed', `${input.taskId}:due:${input.change}`, {
    change: input.change, from: input.from, dueAt: input.dueAt, reason: input.reason,
  }, input, input.actor);
}

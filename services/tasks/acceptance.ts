import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import type { TaskRow } from '../../db/schema';
import { acceptTaskUpdate } from '../../workflows/contract';
import { conflict, DomainError } from '../lib/errors';
import { mapUpdateError } from './decisions';
import { getTask, mayDecide } from './tasks';

/**
 * A task step's holder accepts (claims) its task, before its acceptance deadline: 403 for anyone
 * but the holder, 409 for a task that takes no acceptance (an approval) or is not open any more.
 * The journey's `acceptTask` update decides (one of concurrent acceptances wins) and records the
 * acceptance; the update id `<task>:accept:<user>` makes a repeated request the same acceptance.
 */
export async function acceptTask(deps: { db: Database; temporal: Client }, user: { id: string; roles: string[] }, taskId: string): Promise<TaskRow> {
  const task = await getTask(deps.db, taskId);
  if (!mayDecide(task, user)) throw new DomainError(403, 'not_allowed', 'Only the holder of this task may accept it');
  if (!task.acceptBy) throw conflict('task_not_acceptable', 'This task takes a decision, not an acceptance: complete it');
  if (task.acceptedBy === user.id) return task;
  if (task.status !== 'open') throw conflict('task_closed', `This task is ${task.status} already`, { status: task.status });
  try {
    await deps.temporal.workflow.getHandle(task.workflowId).executeUpdate(acceptTaskUpdate, {
      args: [{ taskId, actor: { userId: user.id } }], updateId: `${task.id}:accept:${user.id}`,
    });
  } catch (err) {
    throw mapUpdateError(err);
  }
  return getTask(deps.db, taskId);
}

import { cancelTask, escalateTask, expireTask, recordAcceptance, recordDecision, remindTask, type RecordedDecision, type TaskEvent } from '../services/tasks/lifecycle';
import { createTask, type NewTask } from '../services/tasks/tasks';
import type { Principal } from '../journey-language';
import type { ActivityDeps } from './index';

export function createTaskActivities(deps: ActivityDeps) {
  const taskDeps = { db: deps.db, mailer: deps.mailer, email: deps.email };
  return {
    /** Creates the approval task (once per key) and emails its approvers their links. */
    createTask: (input: NewTask) => createTask(taskDeps, input),

    /** Reminds the approvers (without `assignee`: the task's holder) of an open task (email with their link), once. */
    remindTask: (input: TaskEvent & { assignee?: Principal }) => remindTask(taskDeps, input),

    /** Stores and audits that a task step's holder accepted its task. */
    recordAcceptance: (input: { taskId: string; idempotencyKey: string; userId: string; completeBy?: string }) => recordAcceptance(deps.db, input),

    /** Escalates an open task: the escalation target may now decide too, and gets a link. */
    escalateTask: (input: TaskEvent & { escalateTo: Principal }) => escalateTask(taskDeps, input),

    /** Expires a task nobody decided in time. */
    expireTask: (input: TaskEvent) => expireTask(deps.db, input),

    /** Closes a task whose enrolment ended (goal, exit, cancel) before a decision. */
    cancelTask: (input: { taskId: string; idempotencyKey: string; reason: string }) => cancelTask(deps.db, input),

    /** Stores the accepted decision (who, which values) and audits it; a test run's sandbox approver is no user. */
    recordDecision: (input: RecordedDecision) => recordDecision(deps.db, input),
  };
}

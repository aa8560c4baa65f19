import {
  finishRun, markRunTasksOverdue, openRunTask, recordRunStarted, recordRunTaskAction, skipRunTask,
  type RecordedAction, type RunRef, type TaskRef,
} from '../services/processes/run-tasks';
import type { ProcessRunStatus } from '../db/schema';
import type { ProcessAssignee } from '../journey-language';
import type { BusinessDue } from '../services/processes/business-days';
import { escalateRunTask, remindRunTask } from '../services/processes/task-notices';
import { concludeReview, type ReviewEnd } from '../services/journeys/reviews';
import type { ActivityDeps } from './index';

/** What a process run's workflow does to its rows and its audit chain: thin adapters over services/processes. */
export function createProcessActivities(deps: ActivityDeps) {
  return {
    recordProcessRunStarted: (input: RunRef & { version: number }) => recordRunStarted(deps.db, input),
    openProcessTask: (input: TaskRef & { assignees: ProcessAssignee[]; dueAt?: string; businessDue?: BusinessDue }) => openRunTask(deps.db, input),
    skipProcessTask: (input: TaskRef) => skipRunTask(deps.db, input),
    recordProcessTaskAction: (input: RecordedAction) => recordRunTaskAction(deps.db, input),
    markProcessTasksOverdue: (input: RunRef & { taskIds: string[] }) => markRunTasksOverdue(deps.db, input),
    remindProcessTask: (input: TaskRef & { reminder: number; userIds: string[] }) => remindRunTask(deps, input),
    escalateProcessTask: (input: TaskRef & { to: ProcessAssignee; slots: number[] }) => escalateRunTask(deps, input),
    concludeJourneyReview: async (input: ReviewEnd) => {
      const review = await concludeReview({ ...deps, webhookAllowedHosts: deps.webhookTargets.allowedHosts }, input);
      return { outcome: review.outcome, publishedVersion: review.publishedVersion };
    },
    finishProcessRun: (input: RunRef & { status: Exclude<ProcessRunStatus, 'running'>; done: number; total: number }) => finishRun(deps.db, input),
  };
}

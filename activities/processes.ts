import {
  finishRun, markRunTasksOverdue, openRunTask, recordRunStarted, recordRunTaskAction, skipRunTask,
  type RecordedAction, type RunRef, type TaskRef,
} from '../services/processes/run-tasks';
import type { ProcessRunStatus } from '../db/schema';
import type { ProcessAssignee } from '../journey-language';
import { concludeReview, type ReviewEnd } from '../services/journeys/reviews';
import { runAutomation, type AutomationRun } from '../services/processes/automations';
import type { ActivityDeps } from './index';

/** What a process run's workflow does to its rows and its audit chain: thin adapters over services/processes. */
export function createProcessActivities(deps: ActivityDeps) {
  return {
    recordProcessRunStarted: (input: RunRef & { version: number }) => recordRunStarted(deps.db, input),
    openProcessTask: (input: TaskRef & { assignees: ProcessAssignee[]; dueAt?: string }) => openRunTask(deps.db, input),
    skipProcessTask: (input: TaskRef) => skipRunTask(deps.db, input),
    recordProcessTaskAction: (input: RecordedAction) => recordRunTaskAction(deps.db, input),
    markProcessTasksOverdue: (input: RunRef & { taskIds: string[] }) => markRunTasksOverdue(deps.db, input),
    concludeJourneyReview: async (input: ReviewEnd) => {
      const review = await concludeReview({ ...deps, webhookAllowedHosts: deps.webhookTargets.allowedHosts }, input);
      return { outcome: review.outcome, publishedVersion: review.publishedVersion };
    },
    /** One automation of a finished task: its side effect and its record, once (a permanent failure is recorded, not thrown). */
    runProcessAutomation: (input: AutomationRun) => runAutomation(deps, input),
    finishProcessRun: (input: RunRef & { status: Exclude<ProcessRunStatus, 'running'>; done: number; total: number }) => finishRun(deps.db, input),
  };
}

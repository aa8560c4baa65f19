import {
  finishRun, markRunTasksOverdue, openApprovalStage, openRunTask, recordRunStarted, recordRunTaskAction, skipRunTask,
  type RecordedAction, type RunRef, type TaskRef,
} from '../services/processes/run-tasks';
import type { ProcessRunStatus } from '../db/schema';
import type { ProcessAssignee } from '../journey-language';
import type { ReviewEnd } from '../services/processes/review-subjects';
import { concludeReview } from '../services/processes/review-end';
import { startScheduledRun } from '../services/processes/schedules';
import type { ScheduledProcessStartInput } from '../workflows/contract';
import type { BusinessDue } from '../services/processes/business-days';
import { changeRunTaskDue, type DueChange } from '../services/processes/due-changes';
import { escalateRunTask, remindRunTask } from '../services/processes/task-notices';
import { runAutomation, type AutomationRun } from '../services/processes/automations';
import type { ActivityDeps } from './index';

/** What a process run's workflow does to its rows and its audit chain: thin adapters over services/processes. */
export function createProcessActivities(deps: ActivityDeps) {
  const conclude = (input: ReviewEnd) => concludeReview({ ...deps, webhookAllowedHosts: deps.webhookTargets.allowedHosts }, input);
  return {
    recordProcessRunStarted: (input: RunRef & { version: number }) => recordRunStarted(deps.db, input),
    openProcessTask: (input: TaskRef & { assignees: ProcessAssignee[]; stage?: number; dueAt?: string; businessDue?: BusinessDue }) => openRunTask(deps.db, input),
    openApprovalStage: (input: TaskRef & { stage: number; assignees: ProcessAssignee[] }) => openApprovalStage(deps.db, input),
    skipProcessTask: (input: TaskRef) => skipRunTask(deps.db, input),
    recordProcessTaskAction: (input: RecordedAction) => recordRunTaskAction(deps.db, input),
    markProcessTasksOverdue: (input: RunRef & { taskIds: string[]; dueChanges?: Record<string, number> }) => markRunTasksOverdue(deps.db, input),
    changeProcessTaskDue: (input: DueChange) => changeRunTaskDue(deps.db, input),
    remindProcessTask: (input: TaskRef & { reminder: number; userIds: string[] }) => remindRunTask(deps, input),
    escalateProcessTask: (input: TaskRef & { to: ProcessAssignee; slots: number[]; stage?: number }) => escalateRunTask(deps, input),
    /** A review run's end, decided by its subject's kind (journey or template). */
    concludeReview: conclude,
    /** The same activity under the name journey review runs schedule (and their histories recorded) since before template reviews. */
    concludeJourneyReview: conclude,
    startScheduledProcessRun: (input: ScheduledProcessStartInput & { scheduledWorkflowId: string }) => startScheduledRun(deps, input),
    /** One automation of a finished task: its side effect and its record, once (a permanent failure is recorded, not thrown). */
    runProcessAutomation: (input: AutomationRun) => runAutomation(deps, input),
    finishProcessRun: (input: RunRef & { status: Exclude<ProcessRunStatus, 'running'>; done: number; total: number }) => finishRun(deps.db, input),
  };
}

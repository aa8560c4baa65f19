import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, WorkflowExecutionAlreadyStartedError, type Client } from '@temporalio/client';
import { segmentRefreshWorkflow, type SegmentRefreshInput } from '../../workflows/contract';

/** One segments Schedule per deployment (its task queue), so deployments sharing a namespace keep apart. */
export const segmentsScheduleId = (taskQueue: string) => `segments-refresh:${taskQueue}`;

/**
 * The Temporal Schedule that re-evaluates every time-relative segment (relative times, event
 * windows) over all contacts, every `everyMs` (SEGMENT_REFRESH_INTERVAL, default an hour):
 * membership that time alone changes ("last seen more than 30 days ago") is caught there.
 * Idempotent: every worker start creates or updates it. Overlaps are skipped.
 */
export async function syncSegmentsSchedule(deps: { temporal: Client; taskQueue: string }, everyMs: number): Promise<void> {
  const scheduleId = segmentsScheduleId(deps.taskQueue);
  const spec = { intervals: [{ every: everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: segmentRefreshWorkflow,
    workflowId: `segments-refresh-run:${deps.taskQueue}`,
    args: [{}] as [SegmentRefreshInput],
    taskQueue: deps.taskQueue,
    staticSummary: 'Re-evaluate time-relative segments over every contact',
  };
  try {
    await deps.temporal.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await deps.temporal.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action }));
  }
}

/** Starts the scan that decides a newly published version's membership over every contact (once per version). */
export async function startSegmentScan(deps: { temporal: Client; taskQueue: string }, segmentKey: string, version: number): Promise<string> {
  const workflowId = `segment-refresh:${segmentKey}:v${version}`;
  try {
    await deps.temporal.workflow.start(segmentRefreshWorkflow, {
      workflowId, taskQueue: deps.taskQueue, args: [{ segmentKey }], workflowIdConflictPolicy: 'USE_EXISTING',
      staticSummary: `Decide membership of segment ${segmentKey} v${version} over every contact`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  return workflowId;
}

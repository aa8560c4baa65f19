import { workflowInfo } from '@temporalio/workflow';
import { actions } from './activities';
import type { ScheduledProcessStart, ScheduledProcessStartInput, ScheduledProcessStartWorkflow } from './contract';

/**
 * Started by a process's Temporal Schedule at each scheduled time: starts one run of the process.
 * The activity derives the run's id from this workflow's id (the Schedule's workflow id plus the
 * scheduled time), so a retried activity, or this workflow run again, starts no second run. A
 * start that cannot happen (unpublished process, inputs the latest version refuses) comes back
 * `skipped` and recorded, not as a failure retried forever.
 */
export async function scheduledProcessStartWorkflow(input: ScheduledProcessStartInput): Promise<ScheduledProcessStart> {
  const { workflowId } = workflowInfo();
  return actions.startScheduledProcessRun.executeWithOptions(
    { activityId: 'start-run', summary: `Start a run of process ${input.processKey} (${workflowId})` },
    [{ ...input, scheduledWorkflowId: workflowId }],
  );
}
scheduledProcessStartWorkflow satisfies ScheduledProcessStartWorkflow;

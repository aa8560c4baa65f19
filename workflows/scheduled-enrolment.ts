import { workflowInfo } from '@temporalio/workflow';
import { actions } from './activities';
import type { ScheduledEnrolmentWorkflow } from './contract';

/**
 * Started by a journey's Temporal Schedule: enrols the contacts its segment matches. Each run's
 * enrolments are idempotent per scheduled time and contact, so a retried run adds nobody twice.
 */
export async function scheduledEnrolmentWorkflow(input: { journeyKey: string }): Promise<{ enrolled: number; matched: number }> {
  const runAt = workflowInfo().startTime.toISOString();
  let cursor: string | undefined;
  let enrolled = 0;
  let matched = 0;
  do {
    const page = await actions.enrolSegmentPage.executeWithOptions(
      { activityId: `enrol-page:${cursor ?? 'start'}`, summary: `Enrol the ${input.journeyKey} segment (run ${runAt})` },
      [{ journeyKey: input.journeyKey, runAt, after: cursor }],
    );
    enrolled += page.enrolled;
    matched += page.matched;
    cursor = page.nextCursor;
  } while (cursor);
  return { enrolled, matched };
}
scheduledEnrolmentWorkflow satisfies ScheduledEnrolmentWorkflow;

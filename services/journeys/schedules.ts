import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { JourneyRow } from '../../db/schema';
import type { JourneyDefinition } from '../../journey-language';
import { scheduledEnrolmentWorkflow } from '../../workflows/contract';

export const scheduleIdFor = (journeyKey: string) => `journey-schedule:${journeyKey}`;

/**
 * Keeps a journey's Temporal Schedule in step with its latest version and status: created or
 * updated for a schedule trigger (paused while the journey is paused), deleted otherwise.
 */
export async function syncJourneySchedule(
  deps: { temporal: Client; taskQueue: string }, journey: JourneyRow, definition: JourneyDefinition | undefined,
): Promise<void> {
  const scheduleId = scheduleIdFor(journey.key);
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  if (!definition || definition.trigger.type !== 'schedule') {
    await handle.delete().catch((err) => { if (!(err instanceof ScheduleNotFoundError)) throw err; });
    return;
  }
  const spec = { cronExpressions: [definition.trigger.cron], timezone: definition.trigger.timezone };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledEnrolmentWorkflow,
    workflowId: `journey-schedule-run:${journey.key}`,
    args: [{ journeyKey: journey.key }] as [{ journeyKey: string }],
    taskQueue: deps.taskQueue,
    staticSummary: `Scheduled enrolment into journey "${journey.name}" (${journey.key})`,
  };
  const paused = journey.status === 'paused';
  const note = paused ? 'journey paused' : `journey ${journey.key} v${journey.latestVersion}`;
  try {
    await deps.temporal.schedule.create({
      scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP }, state: { paused, note },
    });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, spec, action, state: { ...previous.state, paused, note } }));
  }
}

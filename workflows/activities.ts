import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities';

/** Side effects: retried with backoff; each is idempotent by its key, so retries are safe. */
export const actions = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Audit and progress writes: small, fast, retried until the database answers. */
export const recording = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/**
 * Audit and progress writes as local activities: run by the worker inside the workflow task, with
 * no round trip through the server (recorded as markers). Enrolments started before this change
 * replay with the regular activities above (see `recordingPatch`).
 */
export const localRecording = proxyLocalActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

/** Reads the workflow decides on (a branch's facts): short and side-effect free, so local. */
export const localReads = proxyLocalActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

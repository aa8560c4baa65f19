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
 * Short database work as local activities (audit and progress writes, a branch's decision): run
 * by the worker inside the workflow task, with no round trip through the server (recorded as
 * markers). Enrolments started before this change replay with `recording` above (workflows/patches.ts).
 */
export const local = proxyLocalActivities<JourneyActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '500 milliseconds', backoffCoefficient: 2, maximumInterval: '1 minute' },
});

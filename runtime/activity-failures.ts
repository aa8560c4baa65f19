import { ApplicationFailure } from '@temporalio/common';
import type { ActivityInboundCallsInterceptor, ActivityInterceptorsFactory } from '@temporalio/worker';
import { isPermanent } from '../services/lib/errors';
import { metrics } from '../services/lib/metrics';
import { PERMANENT_FAILURE } from '../workflows/contract';

/** From this attempt on, a retrying activity is flagged: a warning in the log and a metric. */
export const FLAG_AFTER_ATTEMPTS = 5;

/**
 * How the worker tells failures apart, in one place so activities stay thin adapters:
 * - a permanent error (unknown or erased contact, a template that cannot render with this data,
 *   a 4xx domain error) becomes a non-retryable ApplicationFailure of type PermanentStepFailure,
 *   with its code in `details`: the workflow records the step as failed and ends the enrolment;
 * - anything else is transient and retried with backoff by the activity's retry policy; from
 *   attempt FLAG_AFTER_ATTEMPTS on, each failure logs a warning and counts in
 *   `nurture_activity_retries_flagged_total`, so a stuck side effect is seen, not only retried.
 */
export const activityFailures: ActivityInterceptorsFactory = (ctx) => {
  const inbound: ActivityInboundCallsInterceptor = {
    async execute(input, next) {
      try {
        return await next(input);
      } catch (err) {
        if (isPermanent(err)) {
          throw ApplicationFailure.create({
            type: PERMANENT_FAILURE, message: err.message, nonRetryable: true, cause: err,
            details: [{ code: err.code }],
          });
        }
        const { attempt, activityType, workflowExecution } = ctx.info;
        if (attempt >= FLAG_AFTER_ATTEMPTS) {
          metrics.activityRetriesFlagged.inc({ activity: activityType });
          ctx.log.warn('Activity still failing after several attempts', {
            activity: activityType, attempt, workflowId: workflowExecution?.workflowId, error: (err as Error)?.message,
          });
        }
        throw err;
      }
    },
  };
  return { inbound };
};

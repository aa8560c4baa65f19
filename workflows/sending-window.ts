import { condition, patched } from '@temporalio/workflow';
import type { Step } from '../journey-language';
import { local } from './activities';
import type { EnrolmentContext } from './context';
import { SENDING_WINDOW_PATCH } from './patches';

/**
 * Before a marketing send: waits, on a durable timer, until the sending window (the journey's
 * `sendingWindow`, else SENDING_WINDOW) is open in the contact's time zone, and with `capDelay`
 * (whenCapped: delay) until the frequency cap allows the email; a local activity computes the moment. Records `send.delayed` when it waits. True when a goal, exit or cancel
 * ended the enrolment meanwhile (the send then does not happen). Runs from before
 * SENDING_WINDOW_PATCH send at once, as they did.
 */
export async function awaitSendingWindow(step: Step, ctx: EnrolmentContext, capDelay = false): Promise<boolean> {
  if (!patched(SENDING_WINDOW_PATCH)) return false;
  const now = Date.now();
  const { at, window, reason } = await local.nextSendingMoment.executeWithOptions(
    { summary: 'When is the sending window open?' },
    [{ contactId: ctx.input.contactId, from: new Date(now).toISOString(), window: ctx.input.definition.sendingWindow, capDelay: capDelay || undefined }],
  );
  const waitMs = ctx.scaled(Math.max(0, Date.parse(at) - now));
  if (waitMs <= 0) return false;
  await ctx.record(step, { action: 'send.delayed', outcome: 'waiting', details: { until: at, window, reason }, suffix: 'window' });
  return condition(() => ctx.state.ending !== undefined, waitMs, { summary: `Quiet hours: send at ${at} (${window}, step ${step.id})` });
}

import type { SendMessageStep } from '../journey-language';
import { emailTaskQueue } from './actions';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import { awaitSendingWindow } from './sending-window';
import type { StepOutcome } from './steps';

/**
 * A send_message step: one activity chooses the channel (the step's, or the contact's preferred
 * one, then the fallback list), sends once per step visit and answers with the channel used and
 * why; the audit record keeps both. A new step type: no recorded history contains it.
 */
export async function sendMessage(step: SendMessageStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  if (await awaitSendingWindow(step, ctx)) return { outcome: 'interrupted' };
  const result = await actions.sendMessage.executeWithOptions(
    { activityId: ctx.activityId(step, 'send'), taskQueue: emailTaskQueue(), summary: `Send a message (${step.channel})` },
    [{
      idempotencyKey: ctx.keyFor(step), enrolmentId: ctx.input.enrolmentId, contactId: ctx.input.contactId, journeyKey: ctx.input.journeyKey,
      stepId: step.id, channel: step.channel, fallback: step.fallback, topic: step.topic, email: step.email, sms: step.sms,
      capture: ctx.sandboxed || undefined,
    }],
  );
  await ctx.recordOutcome(step, {
    action: `message.${result.status}`, outcome: result.status, providerMessageId: result.providerMessageId,
    details: {
      channel: result.channel, why: result.why, passedOver: result.passedOver, reason: result.reason ?? null, replayed: result.replayed,
    },
  });
  return { outcome: result.status, next: step.next };
}

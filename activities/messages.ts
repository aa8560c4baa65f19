import { deliverMessage, type MessageRequest, type MessageResult } from '../services/channels/send-message';
import { createSmsProvider } from '../services/channels/sms-provider';
import { metrics } from '../services/lib/metrics';
import type { ActivityDeps } from './index';

export type SendMessageInput = MessageRequest;

export function createMessageActivities(deps: ActivityDeps) {
  const provider = deps.sms ? createSmsProvider(deps.sms) : undefined;
  return {
    /**
     * Sends a send_message step on the first channel that can carry it (services/channels): once
     * per idempotency key. Runs on the rate-limited email task queue, as email does.
     */
    async sendMessage(input: SendMessageInput): Promise<MessageResult> {
      const result = await deliverMessage({
        db: deps.db, mailer: input.capture ? deps.sandboxMailer : deps.mailer, email: deps.email,
        sms: provider && deps.sms ? { provider, from: deps.sms.from } : undefined,
      }, input);
      if (!result.replayed && !input.capture && result.channel === 'email') metrics.emails.inc({ status: result.status, reason: result.reason ?? '' });
      return result;
    },
  };
}

import { findContact, toContact } from '../services/contacts/contacts';
import { triggerOf } from '../services/enrolment/trigger';
import { PermanentError } from '../services/lib/errors';
import { metrics } from '../services/lib/metrics';
import { deliverWebhook, renderJson, type WebhookResult } from '../services/webhooks/delivery';
import { renderTemplate } from '../services/lib/templates';
import type { ActivityDeps } from './index';

export interface NotifyInput {
  idempotencyKey: string;
  contactId: string;
  /** Its templates read the event that started the enrolment as `trigger.*` (sent since 2026-11-29). */
  enrolmentId?: string;
  journeyKey: string;
  stepId: string;
  url: string;
  format: 'json' | 'slack';
  body?: Record<string, unknown>;
  text?: string;
  timeoutMs: number;
}

export function createWebhookActivities(deps: ActivityDeps) {
  return {
    /** A signed webhook (JSON or Slack-compatible), delivered once per idempotency key. */
    async notify(input: NotifyInput): Promise<WebhookResult> {
      const contact = await findContact(deps.db, input.contactId);
      if (!contact) throw new PermanentError('contact_not_found', `contact ${input.contactId} does not exist (deleted or erased)`);
      const scope = {
        contact: toContact(contact), journey: { key: input.journeyKey }, step: { id: input.stepId },
        trigger: input.format === 'slack' || input.body ? await triggerOf(deps.db, input.enrolmentId) : undefined,
      };
      // The step's own body is the template; the default body is data and is never rendered.
      const body = input.format === 'slack'
        ? { text: await renderTemplate(input.text ?? '', scope) }
        : input.body
          ? await renderJson(input.body, scope)
          : { event: 'journey.notify', journey: input.journeyKey, step: input.stepId, contact: scope.contact };
      const result = await deliverWebhook(deps.db, deps.webhookSecret, { idempotencyKey: input.idempotencyKey, url: input.url, body, timeoutMs: input.timeoutMs }, deps.webhookTargets);
      if (!result.replayed) metrics.webhooks.inc({ status: result.status });
      return result;
    },
  };
}

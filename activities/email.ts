import { deliverEmail, type EmailResult } from '../services/email/delivery';
import { metrics } from '../services/lib/metrics';
import type { ActivityDeps } from './index';

export interface SendEmailInput {
  idempotencyKey: string;
  enrolmentId: string;
  contactId: string;
  journeyKey: string;
  stepId: string;
  category: 'marketing' | 'transactional';
  topic: string;
  /** Why an admin marked the step transactional (absent in versions published before it was required). */
  transactionalReason?: string;
  template?: { key: string; version: number };
  content?: { subject: string; text: string; html?: string };
  /** Decisions of earlier approval steps: `{{ approval.<step>.values.<field> }}`. */
  approvals?: Record<string, unknown>;
  /** A test run: captured, never sent. */
  sandbox?: boolean;
}

export function createEmailActivities(deps: ActivityDeps) {
  return {
    /**
     * Sends a journey email once per idempotency key, after the send-time checks. Runs on the
     * rate-limited email task queue; recording it in the audit is a separate activity.
     */
    async sendEmail(input: SendEmailInput): Promise<EmailResult> {
      const result = await deliverEmail(deps.db, input.sandbox ? deps.sandboxMailer : deps.mailer, deps.email, {
        idempotencyKey: input.idempotencyKey,
        enrolmentId: input.enrolmentId,
        contactId: input.contactId,
        stepId: input.stepId,
        category: input.category,
        topic: input.topic,
        transactionalReason: input.transactionalReason,
        template: input.template,
        content: input.content,
        scope: { journey: { key: input.journeyKey }, approval: input.approvals ?? {} },
      });
      if (!result.replayed && !input.sandbox) metrics.emails.inc({ status: result.status, reason: result.reason ?? '' });
      return result;
    },
  };
}

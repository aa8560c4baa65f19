import { deliverEmail, type EmailResult } from '../services/email';
import type { ActivityDeps } from './index';

export interface SendEmailInput {
  idempotencyKey: string;
  enrolmentId: string;
  contactId: string;
  journeyKey: string;
  stepId: string;
  subject: string;
  text: string;
  html?: string;
}

export function createEmailActivities(deps: ActivityDeps) {
  return {
    /** Sends a journey email once per idempotency key; recording it is a separate activity. */
    async sendEmail(input: SendEmailInput): Promise<EmailResult> {
      return deliverEmail(deps.db, deps.mailer, {
        idempotencyKey: input.idempotencyKey,
        enrolmentId: input.enrolmentId,
        contactId: input.contactId,
        stepId: input.stepId,
        from: deps.emailFrom,
        subject: input.subject,
        text: input.text,
        html: input.html,
        scope: { journey: { key: input.journeyKey } },
      });
    },
  };
}

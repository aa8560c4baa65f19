import type { Database } from '../db/client';
import { applyContactChanges } from '../services/contacts/changes';
import { deliverEmail, type EmailSettings } from '../services/email/delivery';
import type { Mailer } from '../services/email/mailer';

/** The same two side effects Nurture's steps perform, called directly. */
export function baselineActivities(db: Database, mailer: Mailer, settings: EmailSettings) {
  return {
    async sendBaselineEmail(input: { contactId: string; key: string }) {
      await deliverEmail(db, mailer, settings, { idempotencyKey: input.key, contactId: input.contactId, content: { subject: 'Hello', text: 'Hi' } });
    },
    async updateBaselineContact(input: { contactId: string; key: string }) {
      await applyContactChanges(db, input.key, input.contactId, { addTags: ['bench'] });
    },
  };
}

export type BaselineActivities = ReturnType<typeof baselineActivities>;

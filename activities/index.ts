import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { EmailSettings } from '../services/email/delivery';
import type { Mailer } from '../services/email/mailer';
import type { AuditCheckpointSettings } from '../services/audit/checkpoints';
import type { WebhookTargets } from '../services/webhooks/transport';
import type { SmsSettings } from '../services/channels/sms-provider';
import type { SendingWindow } from '../journey-language';
import { createAuditActivities } from './audit';
import { createAuditCheckpointActivities } from './audit-checkpoints';
import { createContactActivities } from './contacts';
import { createEmailActivities } from './email';
import { createMessageActivities } from './messages';
import { createEnrolmentActivities } from './enrolment';
import { createTestRunActivities } from './journeys';
import { createProcessActivities } from './processes';
import { createTaskActivities } from './tasks';
import { createWebhookActivities } from './webhooks';

export interface ActivityDeps {
  db: Database;
  mailer: Mailer;
  /** Captures test-run email (never sends). */
  sandboxMailer: Mailer;
  email: EmailSettings;
  webhookSecret: string;
  /** Internal hosts webhooks may reach (WEBHOOK_ALLOWED_HOSTS) and the resolver that checks the rest. */
  webhookTargets: WebhookTargets;
  /** For activities that enrol contacts (segment and schedule triggers). */
  temporal: Client;
  taskQueue: string;
  /** The checkpoint signing key and write-once sink; without them no checkpoint is written. */
  auditCheckpoints?: AuditCheckpointSettings;
  /** The SMS provider (SMS_*); without it no SMS is sent and send_message steps fall back. */
  sms?: SmsSettings;
  /** Quiet hours for every journey without its own sendingWindow (SENDING_WINDOW). */
  sendingWindow?: SendingWindow;
  /** JOURNEY_REVIEW_PROCESS: a process automation publishes a journey under it through its review. */
  journeyReviewProcess?: string;
}

/** Every activity the journey workflows call: thin adapters over services. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createAuditActivities(deps),
    ...createAuditCheckpointActivities(deps),
    ...createContactActivities(deps),
    ...createEmailActivities(deps),
    ...createMessageActivities(deps),
    ...createEnrolmentActivities(deps),
    ...createTestRunActivities(deps),
    ...createProcessActivities(deps),
    ...createTaskActivities(deps),
    ...createWebhookActivities(deps),
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;

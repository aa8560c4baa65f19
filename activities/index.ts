import type { Client } from '@temporalio/client';
import type { Database } from '../db/client';
import type { EmailSettings } from '../services/email/delivery';
import type { Mailer } from '../services/email/mailer';
import type { WebhookTargets } from '../services/webhooks/transport';
import { createBranchActivities } from './branches';
import { createContactActivities } from './contacts';
import { createEmailActivities } from './email';
import { createEnrolmentActivities } from './enrolment';
import { createNotifyActivities } from './notify';
import { createRecordingActivities } from './recording';
import { createTaskActivities } from './tasks';

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
}

/** Every activity the journey workflows call: thin adapters over services. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createBranchActivities(deps),
    ...createEmailActivities(deps),
    ...createContactActivities(deps),
    ...createEnrolmentActivities(deps),
    ...createNotifyActivities(deps),
    ...createRecordingActivities(deps),
    ...createTaskActivities(deps),
  };
}

export type JourneyActivities = ReturnType<typeof createActivities>;

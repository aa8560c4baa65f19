import type { SendingWindow } from '../journey-language';
import type { SmsSettings } from '../services/channels/sms-provider';
import type { Client } from '@temporalio/client';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { activityFailures } from './activity-failures';
import type { Database } from '../db/client';
import type { AuditCheckpointSettings } from '../services/audit/checkpoints';
import { durationToMs } from '../journey-language';
import type { EmailSettings } from '../services/email/delivery';
import { parseFrequencyCap } from '../services/email/policy';
import { createMailer, type Mailer } from '../services/email/mailer';
import type { WebhookTargets } from '../services/webhooks/transport';
import pino from 'pino';

const silentLogger = pino({ level: 'silent' });
import type { Config } from './config';
import type { Secrets } from './secrets';

export interface JourneyWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  db: Database;
  mailer: Mailer;
  email: EmailSettings;
  webhookSecret: string;
  /** Internal hosts webhooks may reach (WEBHOOK_ALLOWED_HOSTS); tests may also inject a resolver. */
  webhookTargets: WebhookTargets;
  /** Server-side rate limit of the `<taskQueue>-email` queue, across all workers. */
  emailRatePerSecond: number;
  /** A client for activities that start enrolments. */
  client: Client;
  /**
   * Workflows kept in memory between tasks. Enrolments sleep for days: past this many, the least
   * recently used are evicted and replayed from history when they wake (bounds worker memory).
   */
  maxCachedWorkflows?: number;
  /** A pre-built workflow bundle (tests build it once); otherwise workflows/ is bundled at start. */
  workflowBundle?: { codePath: string };
  /** The audit checkpoint key and sink (runtime/audit-checkpoints.ts); without them checkpoints are refused. */
  auditCheckpoints?: AuditCheckpointSettings;
  /** The SMS provider (SMS_*): without it send_message steps pass SMS over. */
  sms?: SmsSettings;
  /** Quiet hours of journeys without their own sendingWindow (SENDING_WINDOW). */
  sendingWindow?: SendingWindow;
  /** JOURNEY_REVIEW_PROCESS: process automations publish journeys under it through their review, as the API does. */
  journeyReviewProcess?: string;
}

export interface JourneyWorkers {
  run(): Promise<void>;
  shutdown(): void;
  /** RUNNING while both workers run, else the state of the first that does not (for /healthz). */
  state(): string;
}

/** The SMS provider from the configuration, or undefined when SMS is off (no SMS_ACCOUNT_SID). */
export function smsSettingsFrom(config: Config): SmsSettings | undefined {
  if (!config.SMS_ACCOUNT_SID || !config.SMS_AUTH_TOKEN || !config.SMS_FROM) return undefined;
  return {
    baseUrl: config.SMS_BASE_URL, accountSid: config.SMS_ACCOUNT_SID, authToken: config.SMS_AUTH_TOKEN, from: config.SMS_FROM,
    targets: { allowedHosts: config.SMS_ALLOWED_HOSTS },
  };
}

/** Email settings from the configuration: sender, links, consent mode and frequency cap. */
export function emailSettingsFrom(config: Config, secrets: Secrets, publicUrl: string): EmailSettings {
  return {
    from: config.EMAIL_FROM, publicUrl, signingSecret: secrets.signing, tracking: true,
    trackingTtlSeconds: Math.round(durationToMs(config.TRACKING_LINK_TTL)! / 1000),
    consentMode: config.CONSENT_MODE, frequencyCap: parseFrequencyCap(config.EMAIL_FREQUENCY_CAP),
  };
}

/**
 * Two workers on one connection: the journey task queue (workflows and activities) and its
 * `-email` queue, which only sends email, under a server-side rate limit.
 */
export async function createJourneyWorkers(options: JourneyWorkerOptions): Promise<JourneyWorkers> {
  const workflows: Pick<WorkerOptions, 'workflowBundle' | 'workflowsPath'> = options.workflowBundle
    ? { workflowBundle: options.workflowBundle }
    : { workflowsPath: require.resolve('../workflows') };
  const activities = createActivities({
    db: options.db, mailer: options.mailer, sandboxMailer: createMailer(undefined, silentLogger), email: options.email, webhookSecret: options.webhookSecret,
    webhookTargets: options.webhookTargets,
    temporal: options.client, taskQueue: options.taskQueue, auditCheckpoints: options.auditCheckpoints, sms: options.sms, sendingWindow: options.sendingWindow,
    journeyReviewProcess: options.journeyReviewProcess,
  });
  const maxCachedWorkflows = options.maxCachedWorkflows ?? 250;
  const journeys = await Worker.create({
    connection: options.connection, namespace: options.namespace, taskQueue: options.taskQueue, ...workflows, activities,
    interceptors: { activity: [activityFailures] },
    maxCachedWorkflows,
    // Without a cache, each workflow task that starts evicts the least recently used run, even
    // one whose local activities (audit writes, branch decisions) are still in flight: the SDK
    // then drops their results and the task times out. One task at a time keeps every run
    // until its task completes.
    ...(maxCachedWorkflows === 0 ? { maxConcurrentWorkflowTaskExecutions: 1 } : {}),
  });
  const email = await Worker.create({
    connection: options.connection, namespace: options.namespace, taskQueue: `${options.taskQueue}-email`,
    activities: { sendEmail: activities.sendEmail, sendMessage: activities.sendMessage },
    interceptors: { activity: [activityFailures] },
    maxTaskQueueActivitiesPerSecond: options.emailRatePerSecond,
  });
  return {
    run: async () => { await Promise.all([journeys.run(), email.run()]); },
    shutdown: () => { journeys.shutdown(); email.shutdown(); },
    state: () => [journeys.getState(), email.getState()].find((s) => s !== 'RUNNING') ?? 'RUNNING',
  };
}


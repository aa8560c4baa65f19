/** The Temporal worker for production: `npm run worker`. Scale it out: any number may run. */
import { parseSendingWindow } from '../services/enrolment/sending-window';
import { loadConfig, loadDotEnv, publicUrl } from '../runtime/config';
import { openMigratedDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';
import { keepAliveWhileStopping } from '../runtime/shutdown';
import { installTemporalTelemetry, startMetricsServer } from '../runtime/telemetry';
import { connectTemporal, createClient, ensureSearchAttributes, temporalConnectionOptions } from '../runtime/temporal';
import { createJourneyWorkers, emailSettingsFrom, smsSettingsFrom } from '../runtime/worker';
import { resolveSecrets } from '../runtime/secrets';
import { auditCheckpointSettings, checkpointInterval } from '../runtime/audit-checkpoints';
import { syncAuditCheckpointSchedule } from '../services/audit/jobs';
import { syncSegmentsSchedule } from '../services/segments/schedules';
import { durationToMs } from '../journey-language';
import { createMailer } from '../services/email/mailer';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config, 'nurture-worker');
  const temporalMetricsUrl = installTemporalTelemetry(config.TEMPORAL_METRICS_PORT, config.LOG_LEVEL);
  const database = await openMigratedDatabase(config, logger);
  // One native connection for the workers and the client their activities use.
  const connection = await connectTemporal(temporalConnectionOptions(config));
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE, logger);
  const client = createClient(connection, config.TEMPORAL_NAMESPACE);
  const mailer = createMailer(config.SMTP_URL, logger);
  const secrets = resolveSecrets(config);
  const auditCheckpoints = auditCheckpointSettings(config);
  const worker = await createJourneyWorkers({
    client, connection, namespace: config.TEMPORAL_NAMESPACE, taskQueue: config.TASK_QUEUE,
    db: database.db, mailer, email: emailSettingsFrom(config, secrets, publicUrl(config)),
    webhookSecret: secrets.webhook, webhookTargets: { allowedHosts: config.WEBHOOK_ALLOWED_HOSTS }, sms: smsSettingsFrom(config),
    sendingWindow: parseSendingWindow(config.SENDING_WINDOW, config.SENDING_WINDOW_TIMEZONE), journeyReviewProcess: config.JOURNEY_REVIEW_PROCESS,
    emailRatePerSecond: config.EMAIL_RATE_LIMIT_PER_SECOND,
    maxCachedWorkflows: config.WORKER_MAX_CACHED_WORKFLOWS,
    auditCheckpoints,
    workflowBundle: config.WORKFLOW_BUNDLE_PATH ? { codePath: config.WORKFLOW_BUNDLE_PATH } : undefined,
  });
  // Idempotent: every worker start creates or updates the one Schedule of this task queue.
  await syncAuditCheckpointSchedule({ temporal: client, taskQueue: config.TASK_QUEUE }, checkpointInterval(config));
  await syncSegmentsSchedule({ temporal: client, taskQueue: config.TASK_QUEUE }, durationToMs(config.SEGMENT_REFRESH_INTERVAL)!);
  logger.info({ keyId: auditCheckpoints.keyId, sink: auditCheckpoints.sink.location, every: config.AUDIT_CHECKPOINT_INTERVAL }, 'audit checkpoints');
  const metricsServer = config.WORKER_METRICS_PORT ? startMetricsServer(config.HOST, config.WORKER_METRICS_PORT, temporalMetricsUrl, logger, config.METRICS_TOKEN, () => worker.state()) : undefined;
  logger.info({ taskQueue: config.TASK_QUEUE, email: mailer.mode }, 'worker running');
  // Temporal's runtime stops the worker on SIGINT/SIGTERM; run() then resolves.
  keepAliveWhileStopping(logger);
  await worker.run();
  metricsServer?.close();
  mailer.close();
  await connection.close();
  await database.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

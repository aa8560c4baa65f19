/**
 * Everything on one machine with no configuration: `npm start`.
 * A Temporal dev server with its Web UI (state in .data/temporal.db) unless TEMPORAL_ADDRESS is
 * set, embedded PGlite (.data/pglite) unless DATABASE_URL is set, the worker and the API in this
 * process. Without SMTP_URL, emails are captured: stored in outgoing_emails and logged.
 */
import { parseSendingWindow } from '../services/enrolment/sending-window';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { buildApp } from '../api/app';
import { loadConfig, loadDotEnv, publicUrl } from '../runtime/config';
import { openMigratedDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';
import { keepAliveWhileStopping } from '../runtime/shutdown';
import { installTemporalTelemetry } from '../runtime/telemetry';
import { connectTemporal, createClient, ensureSearchAttributes, temporalConnectionOptions } from '../runtime/temporal';
import { startTemporalDevServer, type DevServer } from '../runtime/temporal-dev-server';
import { createJourneyWorkers, emailSettingsFrom, smsSettingsFrom } from '../runtime/worker';
import { resolveSecrets } from '../runtime/secrets';
import { auditCheckpointSettings, checkpointInterval } from '../runtime/audit-checkpoints';
import { syncAuditCheckpointSchedule } from '../services/audit/jobs';
import { syncSegmentsSchedule } from '../services/segments/schedules';
import { durationToMs } from '../journey-language';
import type { Database } from '../db/client';
import { createMailer } from '../services/email/mailer';
import { createApiKey } from '../services/people/api-keys';

/** First run: create an admin API key and keep it in DATA_DIR (0600) for local use. */
async function bootstrapAdminKey(db: Database, file: string): Promise<{ key?: string; file: string; created: boolean }> {
  if (existsSync(file)) return { file, created: false };
  const { key } = await createApiKey(db, { name: 'local admin (npm start)', scopes: ['admin'] });
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { key, file, created: true };
}

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config, 'nurture');
  mkdirSync(config.DATA_DIR, { recursive: true });

  let devServer: DevServer | undefined;
  if (!process.env.TEMPORAL_ADDRESS) {
    const [host, port] = config.TEMPORAL_ADDRESS.split(':');
    logger.info('starting the Temporal dev server (first run may build the temporal CLI)');
    devServer = await startTemporalDevServer({
      dbFile: path.resolve(config.DATA_DIR, 'temporal.db'), ip: host, port: Number(port),
      uiPort: new URL(config.TEMPORAL_UI_URL).port ? Number(new URL(config.TEMPORAL_UI_URL).port) : Number(port) + 1000,
    });
  }
  const temporalMetricsUrl = installTemporalTelemetry(config.TEMPORAL_METRICS_PORT, config.LOG_LEVEL);
  const database = await openMigratedDatabase(config, logger);
  const adminKey = await bootstrapAdminKey(database.db, path.resolve(config.DATA_DIR, 'admin-api-key'));
  // One native connection for the API's client and the workers.
  const connection = await connectTemporal(temporalConnectionOptions(config));
  await ensureSearchAttributes(connection, config.TEMPORAL_NAMESPACE, logger);
  const mailer = createMailer(config.SMTP_URL, logger);
  const client = createClient(connection, config.TEMPORAL_NAMESPACE);
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
  });
  // Idempotent: every worker start creates or updates the one Schedule of this task queue.
  await syncAuditCheckpointSchedule({ temporal: client, taskQueue: config.TASK_QUEUE }, checkpointInterval(config));
  await syncSegmentsSchedule({ temporal: client, taskQueue: config.TASK_QUEUE }, durationToMs(config.SEGMENT_REFRESH_INTERVAL)!);
  logger.info({ keyId: auditCheckpoints.keyId, sink: auditCheckpoints.sink.location, every: config.AUDIT_CHECKPOINT_INTERVAL }, 'audit checkpoints');
  const app = await buildApp({
    database, temporal: client, taskQueue: config.TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE, temporalUiUrl: config.TEMPORAL_UI_URL,
    secrets: resolveSecrets(config), publicUrl: () => publicUrl(config), rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE, temporalMetricsUrl,
    publicRateLimitPerMinute: config.PUBLIC_RATE_LIMIT_PER_MINUTE, authFailureLimitPerMinute: config.AUTH_FAILURE_LIMIT_PER_MINUTE, trustProxy: config.TRUST_PROXY,
    metricsToken: config.METRICS_TOKEN,
    webhookAllowedHosts: config.WEBHOOK_ALLOWED_HOSTS,
  }, logger);
  await app.listen({ host: config.HOST, port: config.PORT });

  const api = publicUrl(config);
  process.stdout.write([
    '',
    'Nurture is running.',
    `  API          ${api}/v1`,
    `  API docs     ${api}/docs`,
    `  Temporal UI  ${config.TEMPORAL_UI_URL}`,
    `  Database     ${database.kind === 'pglite' ? path.resolve(config.DATA_DIR, 'pglite') + ' (PGlite)' : 'DATABASE_URL'}`,
    `  Admin key    ${adminKey.created ? adminKey.key : `in ${adminKey.file}`}  (export NURTURE_API_KEY=$(cat ${path.relative(process.cwd(), adminKey.file)}))`,
    `  Email        ${mailer.mode === 'capture' ? 'captured (no SMTP_URL): stored in outgoing_emails and logged' : 'SMTP_URL'}`,
    'Press Ctrl-C to stop.',
    '',
  ].join('\n') + '\n');

  // Temporal's runtime stops the worker on SIGINT/SIGTERM; run() then resolves and we close the rest.
  keepAliveWhileStopping(logger);
  const running = worker.run();
  const stopOthers = async () => {
    await app.close();
    mailer.close();
    await connection.close();
    await devServer?.stop();
    await database.close();
  };
  try {
    await running;
  } finally {
    await stopOthers();
    logger.info('stopped');
  }
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

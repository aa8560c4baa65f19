/** The API server for production: `npm run api`. Configured by environment (see .env.example). */
import { buildApp } from '../api/app';
import { loadConfig, loadDotEnv, publicUrl } from '../runtime/config';
import { openMigratedDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';
import { resolveSecrets } from '../runtime/secrets';
import { onShutdown } from '../runtime/shutdown';
import { connectTemporal, createClient, temporalConnectionOptions } from '../runtime/temporal';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config, 'nurture-api');
  const database = await openMigratedDatabase(config, logger);
  const connection = await connectTemporal(temporalConnectionOptions(config));
  const app = await buildApp({
    database, temporal: createClient(connection, config.TEMPORAL_NAMESPACE), taskQueue: config.TASK_QUEUE,
    namespace: config.TEMPORAL_NAMESPACE, temporalUiUrl: config.TEMPORAL_UI_URL,
    secrets: resolveSecrets(config), publicUrl: () => publicUrl(config), rateLimitPerMinute: config.RATE_LIMIT_PER_MINUTE,
    publicRateLimitPerMinute: config.PUBLIC_RATE_LIMIT_PER_MINUTE, authFailureLimitPerMinute: config.AUTH_FAILURE_LIMIT_PER_MINUTE, trustProxy: config.TRUST_PROXY,
    metricsToken: config.METRICS_TOKEN,
    webhookAllowedHosts: config.WEBHOOK_ALLOWED_HOSTS, journeyReviewProcess: config.JOURNEY_REVIEW_PROCESS, templateReviewProcess: config.TEMPLATE_REVIEW_PROCESS,
  }, logger);
  await app.listen({ host: config.HOST, port: config.PORT });
  logger.info({ api: publicUrl(config), docs: `${publicUrl(config)}/docs` }, 'API listening');
  onShutdown(logger, [() => app.close(), () => connection.close(), () => database.close()]);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.stack ?? err.message : err);
  process.exit(1);
});

/**
 * Applies the database migrations and exits: `npm run migrate`. Connects as DATABASE_OWNER_URL
 * when it is set (the owner role), else as DATABASE_URL.
 */
import { loadConfig, loadDotEnv } from '../runtime/config';
import { migrateDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  await migrateDatabase(config, createLogger(config));
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

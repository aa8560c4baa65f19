/** Applies the database migrations and exits: `npm run migrate`. */
import { loadConfig, loadDotEnv } from '../runtime/config';
import { openMigratedDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const logger = createLogger(config);
  const database = await openMigratedDatabase(config, logger);
  await database.close();
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

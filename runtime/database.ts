import path from 'node:path';
import { openDatabase, type DatabaseHandle } from '../db/client';
import { auditTrailPowers } from '../db/roles';
import type { Config } from './config';
import type { Logger } from './logger';

/**
 * PostgreSQL at DATABASE_URL, else embedded PGlite under DATA_DIR. Migrations connect with
 * DATABASE_OWNER_URL when it is set (the owner role), else with DATABASE_URL.
 */
function open(config: Config): Promise<DatabaseHandle> {
  return openDatabase({
    url: config.DATABASE_URL, migrationUrl: config.DATABASE_OWNER_URL, pgliteDir: pgliteDir(config),
    poolSize: config.DATABASE_POOL_SIZE, statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
}

const pgliteDir = (config: Config) => path.resolve(config.DATA_DIR, 'pglite');

function migrated(database: DatabaseHandle, config: Config, logger: Logger): void {
  const where = database.kind === 'pglite' ? `PGlite at ${pgliteDir(config)}` : 'PostgreSQL at DATABASE_URL';
  logger.info({ database: where, as: config.DATABASE_OWNER_URL ? 'DATABASE_OWNER_URL' : 'DATABASE_URL' }, 'database migrated');
}

/** Applies the migrations and closes: `npm run migrate`, the one-shot job of a deploy. */
export async function migrateDatabase(config: Config, logger: Logger): Promise<void> {
  const database = await open(config);
  try {
    await database.migrate();
    migrated(database, config, logger);
  } finally {
    await database.close();
  }
}

/**
 * The database of the API and the workers, migrated before use (nothing to do once the migrate
 * job ran). Says so in the log when DATABASE_URL's role could rewrite the audit trail: the
 * processes facing the network are meant to connect as the runtime role of
 * deploy/postgres/roles.sql, which may only add and read records.
 */
export async function openMigratedDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  const database = await open(config);
  await database.migrate();
  migrated(database, config, logger);
  if (database.kind === 'postgres') {
    const powers = await auditTrailPowers(database.db);
    if (powers?.length) {
      logger.warn({ powers }, "DATABASE_URL's role can rewrite the audit trail: connect as the runtime role of deploy/postgres/roles.sql (DATABASE_OWNER_URL migrates)");
    }
  }
  return database;
}

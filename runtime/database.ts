import path from 'node:path';
import { openDatabase, type DatabaseHandle } from '../db/client';
import type { Config } from './config';
import type { Logger } from './logger';

/** PostgreSQL at DATABASE_URL, else embedded PGlite under DATA_DIR; migrated before use. */
export async function openMigratedDatabase(config: Config, logger: Logger): Promise<DatabaseHandle> {
  const pgliteDir = path.resolve(config.DATA_DIR, 'pglite');
  const database = await openDatabase({
    url: config.DATABASE_URL, pgliteDir, poolSize: config.DATABASE_POOL_SIZE, statementTimeoutMs: config.DATABASE_STATEMENT_TIMEOUT_MS,
  });
  await database.migrate();
  logger.info({ database: database.kind === 'pglite' ? `PGlite at ${pgliteDir}` : 'PostgreSQL at DATABASE_URL' }, 'database migrated');
  return database;
}

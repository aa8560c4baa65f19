import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Pool } from 'pg';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import * as schema from './schema';

/** A Drizzle database over either node-postgres (production) or embedded PGlite (local runs). */
export type Database = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface DatabaseHandle {
  db: Database;
  kind: 'postgres' | 'pglite';
  /** Applies the committed drizzle-kit migrations (idempotent). */
  migrate(): Promise<void>;
  /** Checks the database answers; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}

export const MIGRATIONS_FOLDER = path.join(__dirname, 'migrations');

export interface DatabaseOptions {
  /** postgres:// URL; when absent an embedded PGlite database is used under `pgliteDir`. */
  url?: string;
  pgliteDir?: string;
  poolSize?: number;
  /**
   * PostgreSQL cancels any statement running longer (default 30 s; 0: no limit), so a runaway
   * query frees its connection instead of holding the pool. Migrations run on a connection of
   * their own without it: building an index on a large table may take longer. PGlite has none.
   */
  statementTimeoutMs?: number;
}

export const DEFAULT_STATEMENT_TIMEOUT_MS = 30_000;

export async function openDatabase(options: DatabaseOptions): Promise<DatabaseHandle> {
  if (options.url) return openPostgres(options.url, options.poolSize ?? 10, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
  if (!options.pgliteDir) throw new Error('openDatabase needs a url or a pgliteDir');
  return openPglite(options.pgliteDir);
}

function openPostgres(url: string, poolSize: number, statementTimeoutMs: number): DatabaseHandle {
  // Sent as a startup parameter: every connection of the pool has it from its first statement.
  const pool = new Pool({ connectionString: url, max: poolSize, ...(statementTimeoutMs > 0 ? { statement_timeout: statementTimeoutMs } : {}) });
  // An idle client losing its connection (e.g. a database restart) must not crash the process.
  pool.on('error', () => undefined);
  const db = drizzlePg(pool, { schema });
  return {
    db: db as unknown as Database,
    kind: 'postgres',
    // Migrations get a connection of their own without the statement timeout: a long index build
    // (or a wait for another process's migration) must not be cancelled at 30 s.
    migrate: async () => {
      const unlimited = new Pool({ connectionString: url, max: 1 });
      try {
        await migratePg(drizzlePg(unlimited, { schema }), { migrationsFolder: MIGRATIONS_FOLDER });
      } finally {
        await unlimited.end();
      }
    },
    ping: async () => { await pool.query('select 1'); },
    close: () => pool.end(),
  };
}

async function openPglite(dir: string): Promise<DatabaseHandle> {
  mkdirSync(dir, { recursive: true });
  const client = new PGlite(dir);
  await client.waitReady;
  const db = drizzlePglite(client, { schema });
  return {
    db: db as unknown as Database,
    kind: 'pglite',
    migrate: () => migratePglite(db, { migrationsFolder: MIGRATIONS_FOLDER }),
    ping: async () => { await client.query('select 1'); },
    close: () => client.close(),
  };
}

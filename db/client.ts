import path from 'node:path';
import { mkdirSync } from 'node:fs';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { Pool, type PoolClient } from 'pg';
import { drizzle as drizzlePg } from 'drizzle-orm/node-postgres';
import { migrate as migratePg } from 'drizzle-orm/node-postgres/migrator';
import { readMigrationFiles } from 'drizzle-orm/migrator';
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
  /**
   * postgres:// URL `migrate()` connects with instead of `url`: the database owner's, while `url`
   * is the runtime role's, which may not change the schema (deploy/postgres/roles.sql).
   */
  migrationUrl?: string;
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
  if (options.url) return openPostgres(options.url, options.migrationUrl ?? options.url, options.poolSize ?? 10, options.statementTimeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS);
  if (!options.pgliteDir) throw new Error('openDatabase needs a url or a pgliteDir');
  return openPglite(options.pgliteDir);
}

function openPostgres(url: string, migrationUrl: string, poolSize: number, statementTimeoutMs: number): DatabaseHandle {
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
      const unlimited = new Pool({ connectionString: migrationUrl, max: 1 });
      try {
        await migratePostgres(unlimited);
      } finally {
        await unlimited.end();
      }
    },
    ping: async () => { await pool.query('select 1'); },
    close: () => pool.end(),
  };
}

/** The advisory lock every Nurture process takes to migrate (any key: it only has to be shared). */
export const MIGRATION_LOCK = 'nurture:migrations';

/**
 * Applies the migrations under a session-level advisory lock, so processes that start together
 * (API and worker replicas, a migrate job) apply them one at a time: the first applies, the
 * others wait, then find nothing left. With nothing to apply it runs no DDL at all (Drizzle's
 * migrator would still `CREATE SCHEMA IF NOT EXISTS`), so a runtime role that may only read the
 * migrations table starts fine once the owner has migrated.
 */
async function migratePostgres(pool: Pool): Promise<void> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('select pg_advisory_lock(hashtext($1))', [MIGRATION_LOCK]);
    try {
      const pending = await pendingMigrations(client);
      if (pending === 0) return;
      await migratePg(drizzlePg(client, { schema }), { migrationsFolder: MIGRATIONS_FOLDER }).catch((err: { code?: string; cause?: { code?: string } }) => {
        // insufficient_privilege, from PostgreSQL (as the cause of Drizzle's query error)
        if ((err.cause?.code ?? err.code) !== '42501') throw err;
        throw new Error(`${pending} database migration(s) are not applied and this role may not apply them: migrate as the database owner first (node dist/bin/migrate.js with DATABASE_OWNER_URL)`, { cause: err });
      });
    } finally {
      await client.query('select pg_advisory_unlock(hashtext($1))', [MIGRATION_LOCK]);
    }
  } catch (err) {
    broken = err as Error;
    throw err;
  } finally {
    // A connection that failed mid-way may still hold the lock: close it rather than pool it.
    client.release(broken);
  }
}

/** Migrations newer than the last one recorded, by Drizzle's own rule (its `created_at`). */
async function pendingMigrations(client: PoolClient): Promise<number> {
  const migrations = readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER });
  const table = await client.query<{ t: string | null }>(`select to_regclass('drizzle.__drizzle_migrations')::text as t`);
  if (!table.rows[0]?.t) return migrations.length;
  const last = await client.query<{ at: string | null }>('select max(created_at)::text as at from drizzle.__drizzle_migrations');
  const lastAt = Number(last.rows[0]?.at ?? 0);
  return migrations.filter((m) => m.folderMillis > lastAt).length;
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

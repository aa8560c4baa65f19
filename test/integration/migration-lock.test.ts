import { readMigrationFiles } from 'drizzle-orm/migrator';
import { Client as PgClient } from 'pg';
import { MIGRATIONS_FOLDER, openDatabase, type DatabaseHandle } from '../../db/client';
import { adminDatabaseUrl } from '../global-setup';

/**
 * Several processes starting at once on a fresh database (API and worker replicas, a migrate job)
 * all migrate: the advisory lock makes them take turns, so none fails on `already exists` and
 * every migration is applied once.
 */
describe('migrations under an advisory lock', () => {
  const name = `nurture_migrate_${Date.now()}_${process.pid}`;
  const url = new URL(adminDatabaseUrl());
  url.pathname = `/${name}`;
  const admin = () => new PgClient({ connectionString: adminDatabaseUrl() });
  let handles: DatabaseHandle[] = [];

  beforeAll(async () => {
    const c = admin();
    await c.connect();
    await c.query(`create database "${name}"`);
    await c.end();
  });
  afterAll(async () => {
    await Promise.all(handles.map((h) => h.close()));
    const c = admin();
    await c.connect();
    await c.query(`drop database if exists "${name}" with (force)`);
    await c.end();
  });

  it('applies every migration once when four processes migrate a fresh database together', async () => {
    handles = await Promise.all([1, 2, 3, 4].map(() => openDatabase({ url: url.toString(), poolSize: 2 })));
    const results = await Promise.allSettled(handles.map((h) => h.migrate()));
    expect(results.filter((r) => r.status === 'rejected')).toEqual([]);

    const c = new PgClient({ connectionString: url.toString() });
    await c.connect();
    const applied = await c.query<{ n: number }>('select count(*)::int as n from drizzle.__drizzle_migrations');
    expect(applied.rows[0]!.n).toBe(readMigrationFiles({ migrationsFolder: MIGRATIONS_FOLDER }).length);
    // Nothing is left holding the lock.
    const locks = await c.query<{ n: number }>(`select count(*)::int as n from pg_locks l join pg_database d on d.oid = l.database where l.locktype = 'advisory' and d.datname = current_database()`);
    expect(locks.rows[0]!.n).toBe(0);
    await c.end();

    // A later start finds nothing to apply and runs no DDL.
    await expect(handles[0]!.migrate()).resolves.toBeUndefined();
  });
});

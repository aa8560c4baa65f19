import { Client as PgClient } from 'pg';
import { openDatabase } from '../../db/client';
import { adminDatabaseUrl } from '../global-setup';
import { applyRoles, dropDatabaseAndRoles, ROLE_PASSWORDS, urlAs } from '../support/database-roles';

/**
 * The roles of a deployment: the owner migrates, the API and workers connect as a runtime role
 * that reads and writes rows but cannot change the schema, and that starts without migrating.
 */
describe('database roles (deploy/postgres/roles.sql)', () => {
  const suffix = `${Date.now()}_${process.pid}`;
  const names = { db: `nurture_roles_${suffix}`, owner: `nurture_owner_${suffix}`, app: `nurture_app_${suffix}` };

  afterAll(() => dropDatabaseAndRoles(names, adminDatabaseUrl()));

  it('lets the owner migrate and the runtime role use rows only', async () => {
    applyRoles(names, adminDatabaseUrl());
    const ownerUrl = urlAs(names.owner, ROLE_PASSWORDS.owner, names.db, adminDatabaseUrl());
    const appUrl = urlAs(names.app, ROLE_PASSWORDS.app, names.db, adminDatabaseUrl());

    // Before the owner migrated, the runtime role says what to do instead of failing obscurely.
    const early = await openDatabase({ url: appUrl, poolSize: 1 });
    await expect(early.migrate()).rejects.toThrow(/may not apply them: migrate as the database owner first/);
    await early.close();

    // DATABASE_OWNER_URL beside DATABASE_URL: the pool is the runtime role's, migrations the owner's.
    const owner = await openDatabase({ url: appUrl, migrationUrl: ownerUrl, poolSize: 1 });
    await owner.migrate();
    await owner.close();
    applyRoles(names, adminDatabaseUrl()); // the second run, after the migrations, as a deployment does
    applyRoles(names, adminDatabaseUrl()); // and every later deploy's: idempotent

    const app = await openDatabase({ url: appUrl, poolSize: 1 });
    await expect(app.migrate()).resolves.toBeUndefined(); // nothing pending: no DDL
    await app.close();

    const c = new PgClient({ connectionString: appUrl });
    await c.connect();
    try {
      const me = await c.query<{ rolsuper: boolean; owns: boolean }>(
        `select r.rolsuper, d.datdba = r.oid as owns from pg_roles r, pg_database d where r.rolname = current_user and d.datname = current_database()`);
      expect(me.rows[0]).toEqual({ rolsuper: false, owns: false });
      const inserted = await c.query(`insert into contacts (email) values ('roles@example.com') returning id`);
      expect(inserted.rowCount).toBe(1);
      await expect(c.query('create table intruder (id int)')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('alter table contacts add column intruder int')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('drop table contacts')).rejects.toMatchObject({ code: '42501' });
      await expect(c.query('alter table audit_records disable trigger user')).rejects.toMatchObject({ code: '42501' });
      // The audit trail and the consent history: append and read only (audit-privileges.test.ts tries every other way).
      await expect(c.query(`insert into audit_records (actor, action, outcome) values ('roles', 'checked', 'ok')`)).resolves.toMatchObject({ rowCount: 1 });
      await expect(c.query('delete from audit_records')).rejects.toMatchObject({ message: 'permission denied for table audit_records' });
      await expect(c.query('delete from consent_history')).rejects.toMatchObject({ message: 'permission denied for table consent_history' });
    } finally {
      await c.end();
    }
  });
});

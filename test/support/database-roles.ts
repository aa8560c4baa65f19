import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { Client as PgClient } from 'pg';

const ROLES_SQL = path.resolve(__dirname, '..', '..', 'deploy', 'postgres', 'roles.sql');

export interface DatabaseRoles {
  db: string;
  owner: string;
  app: string;
}

/** The passwords applyRoles gives the two roles (a trust-auth test server ignores them). */
export const ROLE_PASSWORDS = { owner: 'owner-secret', app: 'app-secret' };

/** Runs deploy/postgres/roles.sql as a deployment does: psql as a superuser, names from the environment. */
export function applyRoles(names: DatabaseRoles, adminUrl: string): void {
  const admin = new URL(adminUrl);
  execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', 'postgres', '-f', ROLES_SQL], {
    env: {
      ...process.env, PGHOST: admin.hostname, PGPORT: admin.port || '5432', PGUSER: decodeURIComponent(admin.username),
      PGPASSWORD: decodeURIComponent(admin.password), NURTURE_DB: names.db, NURTURE_DB_OWNER: names.owner, NURTURE_DB_APP: names.app,
      NURTURE_DB_OWNER_PASSWORD: ROLE_PASSWORDS.owner, NURTURE_DB_APP_PASSWORD: ROLE_PASSWORDS.app,
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
}

/** A URL to `db` as `role`, on the server of the admin URL. */
export function urlAs(role: string, password: string, db: string, adminUrl: string): string {
  const url = new URL(adminUrl);
  url.username = role;
  url.password = password;
  url.pathname = `/${db}`;
  return url.toString();
}

/** Drops the database, then its two roles (they own nothing elsewhere), as the superuser of the admin URL. */
export async function dropDatabaseAndRoles(names: DatabaseRoles, adminUrl: string): Promise<void> {
  const admin = new PgClient({ connectionString: adminUrl });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`drop database if exists "${names.db}" with (force)`);
    for (const role of [names.owner, names.app]) await admin.query(`drop role if exists "${role}"`);
  } finally {
    await admin.end().catch(() => undefined);
  }
}

import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { openDatabase } from '../db/client';
import { startTemporalDevServer, type DevServer } from '../runtime/temporal-dev-server';
import { applyRoles, dropDatabaseAndRoles, ROLE_PASSWORDS, urlAs, type DatabaseRoles } from './support/database-roles';

export interface GlobalState {
  server: DevServer;
  dir: string;
  adminUrl: string;
  roles: DatabaseRoles;
}

/** Postgres server to create the run's database on, as a superuser: DATABASE_URL, else the local one. */
export function adminDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/**
 * One real Temporal dev server (random port, headless, SQLite with WAL in a temp folder), one
 * fresh PostgreSQL database set up as a deployment is (deploy/postgres/roles.sql, migrations as
 * the owner role, roles.sql again), and the workflow code bundled once for every test file. The
 * roles are named after the run's database (roles belong to the whole server, which parallel
 * runs share); tests connect as the runtime role.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nurture-test-'));
  const adminUrl = adminDatabaseUrl();
  const db = `nurture_test_${Date.now()}_${process.pid}`;
  const roles: DatabaseRoles = { db, owner: `${db}_owner`, app: `${db}_app` };
  const ownerUrl = urlAs(roles.owner, ROLE_PASSWORDS.owner, db, adminUrl);
  const appUrl = urlAs(roles.app, ROLE_PASSWORDS.app, db, adminUrl);
  const superuser = new URL(adminUrl);
  const superuserUrl = urlAs(decodeURIComponent(superuser.username), decodeURIComponent(superuser.password), db, adminUrl);

  const serverStarting = startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: false, logLevel: 'error' });
  void serverStarting.catch(() => undefined); // awaited below; not an unhandled rejection meanwhile
  try {
    applyRoles(roles, adminUrl);
    const database = await openDatabase({ url: appUrl, migrationUrl: ownerUrl, poolSize: 1 });
    await database.migrate();
    await database.close();
    applyRoles(roles, adminUrl); // grants on the tables the migrations created
  } catch (err) {
    await serverStarting.then((s) => s.stop(), () => undefined);
    await dropDatabaseAndRoles(roles, adminUrl);
    throw err;
  }
  const server = await serverStarting;

  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  process.env.NURTURE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.NURTURE_TEST_DATABASE_URL = appUrl;
  process.env.NURTURE_TEST_OWNER_DATABASE_URL = ownerUrl;
  process.env.NURTURE_TEST_SUPERUSER_DATABASE_URL = superuserUrl;
  process.env.NURTURE_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as { __nurture?: GlobalState }).__nurture = { server, dir, adminUrl, roles };
}

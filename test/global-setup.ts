import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { bundleWorkflowCode } from '@temporalio/worker';
import { openDatabase } from '../db/client';
import { startTemporalDevServer, type DevServer } from '../runtime/temporal-dev-server';

export interface GlobalState {
  server: DevServer;
  dir: string;
  adminUrl: string;
  databaseName: string;
}

/** Postgres server to create the run's database on: DATABASE_URL, else the local one. */
export function adminDatabaseUrl(): string {
  return process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
}

/**
 * One real Temporal dev server (random port, headless, SQLite with WAL in a temp folder), one
 * fresh PostgreSQL database, migrated, and the workflow code bundled once for every test file.
 */
export default async function globalSetup(): Promise<void> {
  const dir = mkdtempSync(path.join(tmpdir(), 'nurture-test-'));
  const adminUrl = adminDatabaseUrl();
  const databaseName = `nurture_test_${Date.now()}_${process.pid}`;

  const [server] = await Promise.all([
    startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: false, logLevel: 'error' }),
    (async () => {
      const admin = new PgClient({ connectionString: adminUrl });
      await admin.connect();
      await admin.query(`create database "${databaseName}"`);
      await admin.end();
    })(),
  ]);
  const url = new URL(adminUrl);
  url.pathname = `/${databaseName}`;
  const database = await openDatabase({ url: url.toString(), poolSize: 1 });
  await database.migrate();
  await database.close();

  const bundle = await bundleWorkflowCode({
    workflowsPath: require.resolve('../workflows'),
    logger: { log() {}, trace() {}, debug() {}, info() {}, warn: console.warn, error: console.error },
  });
  const bundlePath = path.join(dir, 'workflow-bundle.js');
  writeFileSync(bundlePath, bundle.code);

  process.env.NURTURE_TEST_TEMPORAL_ADDRESS = server.address;
  process.env.NURTURE_TEST_DATABASE_URL = url.toString();
  process.env.NURTURE_TEST_WORKFLOW_BUNDLE = bundlePath;
  (globalThis as { __nurture?: GlobalState }).__nurture = { server, dir, adminUrl, databaseName };
}

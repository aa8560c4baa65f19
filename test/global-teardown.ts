import { rmSync } from 'node:fs';
import { Client as PgClient } from 'pg';
import type { GlobalState } from './global-setup';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __nurture?: GlobalState }).__nurture;
  if (!state) return;
  await state.server.stop();
  const admin = new PgClient({ connectionString: state.adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists "${state.databaseName}" with (force)`);
  await admin.end();
  rmSync(state.dir, { recursive: true, force: true });
}

import { rmSync } from 'node:fs';
import type { GlobalState } from './global-setup';
import { dropDatabaseAndRoles } from './support/database-roles';

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as { __nurture?: GlobalState }).__nurture;
  if (!state) return;
  await state.server.stop();
  await dropDatabaseAndRoles(state.roles, state.adminUrl);
  rmSync(state.dir, { recursive: true, force: true });
}

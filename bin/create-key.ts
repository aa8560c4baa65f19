/**
 * Creates an API key and prints it once: the way to get the first admin key.
 *   npm run key:create -- --scope admin --name ops
 *   npm run key:create -- --scope approver --user ada@example.com --name "Ada's key"
 */
import { parseArgs } from 'node:util';
import type { ApiScope } from '../db/schema';
import { loadConfig, loadDotEnv } from '../runtime/config';
import { openMigratedDatabase } from '../runtime/database';
import { createLogger } from '../runtime/logger';
import { createApiKey } from '../services/people/api-keys';
import { findUserByEmail } from '../services/people/users';

async function main() {
  const { values } = parseArgs({ options: { scope: { type: 'string', multiple: true }, name: { type: 'string' }, user: { type: 'string' } } });
  const scopes = (values.scope ?? ['admin']) as ApiScope[];
  if (scopes.some((s) => !['admin', 'service', 'approver'].includes(s))) throw new Error('--scope is admin, service or approver');
  loadDotEnv();
  const config = loadConfig();
  const database = await openMigratedDatabase(config, createLogger({ LOG_LEVEL: 'warn' }));
  const user = values.user ? await findUserByEmail(database.db, values.user) : undefined;
  if (values.user && !user) throw new Error(`no user with email ${values.user}`);
  const { key, row } = await createApiKey(database.db, { name: values.name ?? `${scopes.join('+')} key`, scopes, userId: user?.id });
  await database.close();
  process.stdout.write(`${key}\n`);
  process.stderr.write(`created key ${row.id} (${row.scopes.join(', ')}); it is shown only this once\n`);
}

main().catch((err) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});

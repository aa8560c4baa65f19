/**
 * Exits 0 when this process's dependencies answer: PostgreSQL (DATABASE_URL) and Temporal.
 * The worker container's health check (it serves no HTTP); the API container uses /readyz.
 */
import { Connection } from '@temporalio/client';
import { Client as PgClient } from 'pg';
import { loadConfig, loadDotEnv } from '../runtime/config';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  if (config.DATABASE_URL) {
    const pg = new PgClient({ connectionString: config.DATABASE_URL, connectionTimeoutMillis: 3_000 });
    await pg.connect();
    await pg.query('select 1');
    await pg.end();
  }
  const connection = await Connection.connect({ address: config.TEMPORAL_ADDRESS, connectTimeout: 3_000 });
  await connection.workflowService.getSystemInfo({});
  await connection.close();
}

main().then(() => process.exit(0), (err) => {
  console.error(`unhealthy: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});

/**
 * A container's health check, compiled into the image: exits 0 when this container's process is
 * healthy, by asking it over loopback.
 *   node dist/bin/healthcheck.js api      GET /readyz on PORT (PostgreSQL and Temporal answer)
 *   node dist/bin/healthcheck.js worker   GET /healthz on WORKER_METRICS_PORT (the Temporal workers run)
 */
import { loadConfig, loadDotEnv } from '../runtime/config';

async function main() {
  loadDotEnv();
  const config = loadConfig();
  const role = process.argv[2] ?? 'api';
  if (role !== 'api' && role !== 'worker') throw new Error('usage: healthcheck.js api|worker');
  if (role === 'worker' && !config.WORKER_METRICS_PORT) throw new Error('WORKER_METRICS_PORT is 0: the worker serves no /healthz');
  const url = role === 'api' ? `http://127.0.0.1:${config.PORT}/readyz` : `http://127.0.0.1:${config.WORKER_METRICS_PORT}/healthz`;
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}: ${(await res.text()).slice(0, 200)}`);
}

main().then(() => process.exit(0), (err) => {
  console.error(`unhealthy: ${err instanceof Error ? err.message : err}`);
  process.exit(1);
});

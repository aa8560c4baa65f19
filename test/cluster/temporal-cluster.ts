import { execFile } from 'node:child_process';
import { createServer } from 'node:net';
import path from 'node:path';
import { promisify } from 'node:util';
import { Client as PgClient } from 'pg';
import { startProcess, type ManagedProcess } from './processes';

const ROOT = path.resolve(__dirname, '..', '..');
const CLUSTER_SH = path.join(ROOT, 'deploy', 'temporal', 'cluster.sh');
const run = promisify(execFile);

/** The server's services, one process each; two history processes on their own ports. */
export type TemporalProcessName = 'frontend' | 'history-1' | 'history-2' | 'matching' | 'worker';

export interface TemporalCluster {
  address: string;
  processes: Map<TemporalProcessName, ManagedProcess>;
  /** Stops one process gracefully and starts it again with the same ports. */
  restart(name: TemporalProcessName): Promise<void>;
  stop(): Promise<void>;
}

/**
 * Free loopback ports below 32768: Temporal keeps membership ports in a smallint column, so the
 * kernel's ephemeral range (where port 0 lands) will not do.
 */
async function freeLowPorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (ports.has(port)) continue;
    const free = await new Promise<boolean>((resolve) => {
      const server = createServer().once('error', () => resolve(false));
      server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
    });
    if (free) ports.add(port);
  }
  return [...ports];
}

/** Waits until the first server process has written the cluster's metadata to its database. */
async function clusterMetadataWritten(databaseUrl: string, first: ManagedProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const c = new PgClient({ connectionString: databaseUrl });
    const rows = await c.connect().then(() => c.query('select 1 from cluster_metadata_info')).then((r) => r.rowCount ?? 0, () => 0);
    await c.end().catch(() => undefined);
    if (rows > 0) return;
    if (first.child.exitCode !== null || Date.now() > deadline) throw new Error(`${first.name} did not initialise the cluster:\n${first.tail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Prints a path from one of the provisioning scripts (they build on first use, then reuse). */
async function provision(script: string): Promise<string> {
  const { stdout } = await run(path.join(ROOT, 'scripts', script), { cwd: ROOT, maxBuffer: 16 << 20, timeout: 20 * 60_000 });
  return stdout.trim();
}

/**
 * A Temporal cluster set up the way docker-compose.yml does it, with the same script
 * (deploy/temporal/cluster.sh): temporal-sql-tool creates the two databases on the machine's
 * PostgreSQL, each service runs as its own process on free loopback ports, then the namespace and
 * the search attributes are created with the CLI.
 */
export async function startTemporalCluster(options: { adminUrl: string; databasePrefix: string; logDir: string }): Promise<TemporalCluster> {
  const [serverDir, cli] = await Promise.all([provision('provision-temporal-server.sh'), provision('provision-temporal.sh')]);
  const db = new URL(options.adminUrl);
  const free = (await freeLowPorts(11)).map(String);
  const ports: Record<string, string> = {};
  for (const key of ['FRONTEND', 'FRONTEND_HTTP', 'FRONTEND_MEMBERSHIP', 'HISTORY', 'HISTORY_MEMBERSHIP', 'MATCHING', 'MATCHING_MEMBERSHIP', 'WORKER', 'WORKER_MEMBERSHIP']) {
    ports[`TEMPORAL_${key}_PORT`] = free.pop()!;
  }
  const secondHistory = { TEMPORAL_HISTORY_PORT: free.pop()!, TEMPORAL_HISTORY_MEMBERSHIP_PORT: free.pop()! };
  const env: NodeJS.ProcessEnv = {
    ...process.env, ...ports,
    TEMPORAL_SERVER: path.join(serverDir, 'temporal-server'), TEMPORAL_SQL_TOOL: path.join(serverDir, 'temporal-sql-tool'),
    TEMPORAL_SCHEMA_DIR: path.join(serverDir, 'schema', 'postgresql', 'v12'), TEMPORAL_CLI: cli,
    TEMPORAL_DB_HOST: db.hostname, TEMPORAL_DB_PORT: db.port || '5432', TEMPORAL_DB_USER: decodeURIComponent(db.username),
    TEMPORAL_DB_PASSWORD: decodeURIComponent(db.password), TEMPORAL_DB: `${options.databasePrefix}_temporal`,
    TEMPORAL_VISIBILITY_DB: `${options.databasePrefix}_visibility`, TEMPORAL_LOG_LEVEL: 'warn',
    // Five processes share the machine's PostgreSQL (max_connections 100 by default) with Nurture's.
    TEMPORAL_DB_MAX_CONNS: '8', TEMPORAL_VISIBILITY_DB_MAX_CONNS: '2',
  };
  const address = `127.0.0.1:${ports.TEMPORAL_FRONTEND_PORT}`;
  await run(CLUSTER_SH, ['schema'], { env, maxBuffer: 64 << 20 }).catch((err: { stderr?: string }) => {
    throw new Error(`cluster.sh schema failed:\n${String(err.stderr ?? err).slice(-4000)}`);
  });

  const processes = new Map<TemporalProcessName, ManagedProcess>();
  const start = (name: TemporalProcessName) => {
    const service = name.startsWith('history') ? 'history' : name;
    const own = name === 'history-2' ? secondHistory : {};
    processes.set(name, startProcess(`temporal-${name}`, CLUSTER_SH, ['start', service], { ...env, ...own }, options.logDir));
  };
  // The first process to start on fresh databases writes the cluster's metadata; others starting
  // at the same moment would race it and exit (in docker-compose they restart).
  const stopAll = () => Promise.all([...processes.values()].map((p) => p.stop('SIGTERM')));
  try {
    start('history-1');
    const temporalDb = new URL(options.adminUrl);
    temporalDb.pathname = `/${env.TEMPORAL_DB}`;
    await clusterMetadataWritten(temporalDb.toString(), processes.get('history-1')!);
    for (const name of ['history-2', 'matching', 'frontend', 'worker'] as const) start(name);
    await run(CLUSTER_SH, ['namespace'], { env, timeout: 180_000 }).catch((err: { stderr?: string }) => {
      const logs = [...processes.values()].map((p) => `--- ${p.name}\n${p.tail(5)}`).join('\n');
      throw new Error(`cluster.sh namespace failed: ${String(err.stderr ?? err).slice(-2000)}\n${logs}`);
    });
  } catch (err) {
    await stopAll();
    throw err;
  }

  return {
    address,
    processes,
    async restart(name) {
      await processes.get(name)!.stop('SIGTERM');
      start(name);
    },
    async stop() {
      await stopAll();
    },
  };
}

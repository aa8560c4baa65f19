import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { freePort } from '../../runtime/temporal-dev-server';
import { adminDatabaseUrl } from '../global-setup';
import { applyRoles, ROLE_PASSWORDS, urlAs, type DatabaseRoles } from '../support/database-roles';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { buildDist, makeRelease, runCommand, startApi, startWorker, type Deployment, type Release } from './nurture';
import type { ManagedProcess } from './processes';
import { startTemporalCluster, type TemporalCluster } from './temporal-cluster';

const ROOT = path.resolve(__dirname, '..', '..');
export const CLUSTER_SECRETS = { signing: 'cluster-signing-secret-0123456789abcdef', webhook: 'cluster-webhook-secret-01' };

/**
 * The production topology on one machine, with names of its own (databases, roles, task queue,
 * folder under .scratch/), for the cluster test and the cluster bench.
 */
export interface ClusterDeployment {
  id: string;
  /** Nurture's database as the runtime role, as the API and workers connect. */
  appDatabaseUrl: string;
  temporal: TemporalCluster;
  smtp: SmtpSink;
  /** Release 1 runs first; a rolling deploy moves workers to release 2. */
  releases: Release[];
  apis: Array<{ url: string; process: ManagedProcess }>;
  workers: Array<{ healthPort: number; process: ManagedProcess } | undefined>;
  /** Starts (or restarts) worker `index` on a release, as `worker-<index + 1>-release-<n>`. */
  startWorker(index: number, release: Release): Promise<void>;
  /** An admin-key request to API `index`. */
  api(index: number, method: string, route: string, body?: unknown): Promise<{ status: number; body: any }>;
  /** The requests `api` retried after a 503, with the answer that made it retry. */
  retried: string[];
  /** A query on Nurture's database, as the superuser (for what the test checks). */
  query<T>(text: string, values?: unknown[]): Promise<T[]>;
  stop(): Promise<void>;
}

async function dropDatabasesAndRoles(adminUrl: string, databases: string[], roles: string[]): Promise<void> {
  const c = new PgClient({ connectionString: adminUrl });
  c.on('error', () => undefined);
  await c.connect();
  try {
    for (const db of databases) await c.query(`drop database if exists "${db}" with (force)`);
    for (const role of roles) await c.query(`drop role if exists "${role}"`);
  } finally {
    await c.end().catch(() => undefined);
  }
}

/**
 * Brings the deployment up the way docker-compose.yml does, on the machine's PostgreSQL: the
 * Temporal cluster (deploy/temporal/cluster.sh) beside `npm run build`; roles.sql, migrate.js as
 * the owner, roles.sql again; the first admin key with create-key.js; then the API and worker
 * processes (production mode, runtime role). Cleans up after itself when a step fails.
 */
export async function startClusterDeployment(options: { apis: number; workers: number }): Promise<ClusterDeployment> {
  const id = `${Date.now()}_${process.pid}`;
  const runDir = path.join(ROOT, '.scratch', `cluster-${id}`);
  const logDir = path.join(runDir, 'logs');
  mkdirSync(logDir, { recursive: true });
  const admin = adminDatabaseUrl();
  const roles: DatabaseRoles = { db: `nurture_cluster_${id}`, owner: `nurture_cluster_owner_${id}`, app: `nurture_cluster_app_${id}` };
  const appUrl = urlAs(roles.app, ROLE_PASSWORDS.app, roles.db, admin);
  const adminUser = new URL(admin);
  const asSuperuser = urlAs(decodeURIComponent(adminUser.username), decodeURIComponent(adminUser.password), roles.db, admin);
  const apis: ClusterDeployment['apis'] = [];
  const workers: ClusterDeployment['workers'] = [];
  const retried: string[] = [];
  let temporal: TemporalCluster | undefined;
  let smtp: SmtpSink | undefined;

  const stop = async () => {
    await Promise.all([...apis, ...workers].map(async (p) => p?.process.stop('SIGKILL')));
    await temporal?.stop();
    await smtp?.close();
    // Retried: on a shared machine PostgreSQL may be restarting (the fault tests restart it).
    for (let attempt = 1; ; attempt++) {
      try {
        await dropDatabasesAndRoles(admin, [roles.db, `nurture_cluster_${id}_temporal`, `nurture_cluster_${id}_visibility`], [roles.owner, roles.app]);
        break;
      } catch (err) {
        if (attempt >= 10) throw err;
        await new Promise((r) => setTimeout(r, 3_000));
      }
    }
    rmSync(runDir, { recursive: true, force: true });
  };

  try {
    let releases: Release[] = [];
    // The build and the Temporal cluster come up side by side.
    const [cluster, build] = await Promise.allSettled([
      startTemporalCluster({ adminUrl: admin, databasePrefix: `nurture_cluster_${id}`, logDir }),
      (async () => {
        buildDist();
        releases = [makeRelease(path.join(runDir, 'release-1')), makeRelease(path.join(runDir, 'release-2'))];
      })(),
    ]);
    if (cluster.status === 'fulfilled') temporal = cluster.value;
    for (const step of [cluster, build]) if (step.status === 'rejected') throw step.reason;
    smtp = await startSmtpSink();
    const apiPorts = await Promise.all(Array.from({ length: options.apis }, () => freePort()));
    const deployment: Deployment = {
      temporalAddress: temporal!.address, taskQueue: `cluster-${id}`, smtpUrl: smtp.url, publicUrl: `http://127.0.0.1:${apiPorts[0]}`,
      dataDir: path.join(runDir, 'data'), logDir, secrets: CLUSTER_SECRETS,
    };
    applyRoles(roles, admin);
    // As the compose file's migrate job: DATABASE_URL is the runtime role's, DATABASE_OWNER_URL migrates.
    runCommand(deployment, releases[0]!, appUrl, 'migrate.js', [], { DATABASE_OWNER_URL: urlAs(roles.owner, ROLE_PASSWORDS.owner, roles.db, admin) });
    applyRoles(roles, admin);
    const apiKey = runCommand(deployment, releases[0]!, appUrl, 'create-key.js', ['--scope', 'admin', '--name', 'cluster']).trim();
    for (const [i, port] of apiPorts.entries()) {
      apis.push({ url: `http://127.0.0.1:${port}`, process: await startApi(deployment, releases[0]!, appUrl, `api-${i + 1}`, port) });
    }
    const startWorkerOn = async (index: number, release: Release) => {
      const healthPort = workers[index]?.healthPort ?? await freePort();
      workers[index] = { healthPort, process: await startWorker(deployment, release, appUrl, `worker-${index + 1}-${path.basename(release.dir)}`, healthPort) };
    };
    await Promise.all(Array.from({ length: options.workers }, (_, i) => startWorkerOn(i, releases[0]!)));

    return {
      id, appDatabaseUrl: appUrl, temporal: temporal!, smtp, releases, apis, workers, stop,
      startWorker: startWorkerOn,
      // As a well-behaved backend client: a 503 (the workflow engine did not answer, as while a
      // new cluster's history hosts still converge) is retried after its Retry-After; the API's
      // routes are idempotent on retry. Every retry is counted, and the test reports them.
      async api(index, method, route, body) {
        for (let attempt = 1; ; attempt++) {
          const res = await fetch(`${apis[index]!.url}${route}`, {
            method, headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
            body: body ? JSON.stringify(body) : undefined,
          });
          const answer = { status: res.status, body: await res.json() };
          if (res.status !== 503 || attempt >= 6) return answer;
          retried.push(`${method} ${route}: ${JSON.stringify(answer.body).slice(0, 300)}`);
          await new Promise((r) => setTimeout(r, Number(res.headers.get('retry-after') ?? 5) * 1000));
        }
      },
      retried,
      async query<T>(text: string, values: unknown[] = []) {
        const c = new PgClient({ connectionString: asSuperuser });
        await c.connect();
        try {
          return (await c.query(text, values)).rows as T[];
        } finally {
          await c.end();
        }
      },
    };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

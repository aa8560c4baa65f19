import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { Client as PgClient } from 'pg';
import { freePort } from '../../runtime/temporal-dev-server';
import { adminDatabaseUrl } from '../global-setup';
import { applyRoles, ROLE_PASSWORDS, urlAs, type DatabaseRoles } from '../support/database-roles';
import { startSmtpSink, type SmtpSink } from '../support/smtp-sink';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { buildDist, makeRelease, runCommand, startApi, startWorker, type Deployment, type Release } from './nurture';
import type { ManagedProcess } from './processes';
import { startTemporalCluster, type TemporalCluster } from './temporal-cluster';

const N = Number(process.env.CLUSTER_N ?? 1000);
const ROOT = path.resolve(__dirname, '..', '..');
const SECRETS = { signing: 'cluster-signing-secret-0123456789abcdef', webhook: 'cluster-webhook-secret-01' };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * The production topology on one machine: a Temporal cluster on PostgreSQL (frontend, matching,
 * worker and two history processes, set up by deploy/temporal/cluster.sh as docker-compose.yml
 * does), and Nurture built as deployed, 2 API and 2 worker processes on a database whose runtime
 * role comes from deploy/postgres/roles.sql. While N journeys run, a worker is killed with
 * SIGKILL, a history process restarts and both workers roll to a new release one at a time.
 */
describe('cluster', () => {
  const id = `${Date.now()}_${process.pid}`;
  const runDir = path.join(ROOT, '.scratch', `cluster-${id}`);
  const admin = adminDatabaseUrl();
  const roles: DatabaseRoles = { db: `nurture_cluster_${id}`, owner: `nurture_cluster_owner_${id}`, app: `nurture_cluster_app_${id}` };
  const appUrl = urlAs(roles.app, ROLE_PASSWORDS.app, roles.db, admin);
  let temporal: TemporalCluster | undefined;
  let smtp: SmtpSink;
  let deployment: Deployment;
  let releases: Release[];
  const apis: Array<{ url: string; process: ManagedProcess }> = [];
  const workers: Array<{ healthPort: number; process: ManagedProcess }> = [];
  let apiKey = '';

  const startWorkerOn = async (release: Release, index: number) => {
    const healthPort = workers[index]?.healthPort ?? await freePort();
    workers[index] = { healthPort, process: await startWorker(deployment, release, appUrl, `worker-${index + 1}-${path.basename(release.dir)}`, healthPort) };
  };
  const api = async (index: number, method: string, route: string, body?: unknown) => {
    const res = await fetch(`${apis[index]!.url}${route}`, {
      method, headers: { authorization: `Bearer ${apiKey}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    return { status: res.status, body: await res.json() as any };
  };
  const query = async <T>(text: string, values: unknown[] = []): Promise<T[]> => {
    const c = new PgClient({ connectionString: urlAs(decodeURIComponent(new URL(admin).username), decodeURIComponent(new URL(admin).password), roles.db, admin) });
    await c.connect();
    try {
      return (await c.query(text, values)).rows as T[];
    } finally {
      await c.end();
    }
  };

  beforeAll(async () => {
    mkdirSync(path.join(runDir, 'logs'), { recursive: true });
    const logDir = path.join(runDir, 'logs');
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
    if (!temporal) throw new Error('no Temporal cluster');
    smtp = await startSmtpSink();
    const ports = [await freePort(), await freePort()];
    deployment = {
      temporalAddress: temporal.address, taskQueue: `cluster-${id}`, smtpUrl: smtp.url, publicUrl: `http://127.0.0.1:${ports[0]}`,
      dataDir: path.join(runDir, 'data'), logDir, secrets: SECRETS,
    };
    // As docker-compose.yml: roles, then migrations as the owner, then roles again (grants).
    applyRoles(roles, admin);
    runCommand(deployment, releases[0]!, urlAs(roles.owner, ROLE_PASSWORDS.owner, roles.db, admin), 'migrate.js');
    applyRoles(roles, admin);
    // The first admin key, with the command the README gives for the image.
    apiKey = runCommand(deployment, releases[0]!, appUrl, 'create-key.js', ['--scope', 'admin', '--name', 'cluster']).trim();
    for (const [i, port] of ports.entries()) {
      apis.push({ url: `http://127.0.0.1:${port}`, process: await startApi(deployment, releases[0]!, appUrl, `api-${i + 1}`, port) });
    }
    await Promise.all([startWorkerOn(releases[0]!, 0), startWorkerOn(releases[0]!, 1)]);
  }, 20 * 60_000);

  afterAll(async () => {
    await Promise.all([...apis, ...workers].map((p) => p?.process.stop('SIGKILL')));
    await temporal?.stop();
    await smtp?.close();
    const c = new PgClient({ connectionString: admin });
    await c.connect();
    for (const db of [roles.db, `nurture_cluster_${id}_temporal`, `nurture_cluster_${id}_visibility`]) {
      await c.query(`drop database if exists "${db}" with (force)`);
    }
    await c.query(`drop role if exists "${roles.owner}"`);
    await c.query(`drop role if exists "${roles.app}"`);
    await c.end();
    rmSync(runDir, { recursive: true, force: true });
  }, 120_000);

  it(`${N} journeys across 2 APIs and 2 workers survive kill -9, a history restart and a rolling deploy, each side effect once`, async () => {
    const receiver = await startWebhookReceiver(SECRETS.webhook);
    const key = `cluster-${id}`.replace(/_/g, '-');
    const created = await api(0, 'POST', '/v1/journeys', { key, name: 'Cluster', definition: { steps: [
      { id: 'mail', type: 'send_email', subject: 'Hello {{ contact.email }}', text: 'x', category: 'transactional', next: 'pause' },
      { id: 'pause', type: 'wait', duration: '2s', next: 'score' },
      { id: 'score', type: 'update_contact', scoreDelta: 1, next: 'hook' },
      { id: 'hook', type: 'notify', url: `${receiver.url}/hook`, body: { email: '{{ contact.email }}' } },
    ] } });
    expect(created.status).toBe(201);
    expect((await api(1, 'POST', `/v1/journeys/${key}/publish`)).status).toBe(201);

    // Enrol in batches of 100, alternating between the two APIs, while the faults happen.
    const emails = Array.from({ length: N }, (_, i) => `cluster${i}.${id}@example.com`);
    const enrolling = (async () => {
      for (let i = 0, batch = 0; i < N; i += 100, batch++) {
        const res = await api(batch % 2, 'POST', `/v1/journeys/${key}/enrolments/bulk`, { items: emails.slice(i, i + 100).map((email) => ({ contact: { email } })) });
        expect(res.body.created).toBe(Math.min(100, N - i));
      }
    })();

    await sleep(3_000);
    // A worker crashes, and comes back.
    await workers[0]!.process.stop('SIGKILL');
    await startWorkerOn(releases[0]!, 0);
    // A history process restarts: its shards move to the other one and back.
    await temporal!.restart('history-2');
    await enrolling;
    // A rolling deploy: each worker in turn stops gracefully and the new release takes its place.
    for (const index of [0, 1]) {
      await workers[index]!.process.stop('SIGTERM');
      await startWorkerOn(releases[1]!, index);
    }

    const byStatus = async () => query<{ status: string; n: number }>(
      'select status, count(*)::int as n from enrolments where journey_key = $1 group by status order by status', [key]);
    const deadline = Date.now() + 10 * 60_000;
    while ((await byStatus()).some((r) => r.status === 'running') && Date.now() < deadline) await sleep(2_000);

    // Every enrolment ended once, completed.
    expect(await byStatus()).toEqual([{ status: 'completed', n: N }]);
    const ends = await query<{ n: number }>(
      `select count(*)::int as n from audit_records a join enrolments e on e.id = a.enrolment_id
        where e.journey_key = $1 and a.action in ('enrolment.completed', 'enrolment.exited', 'enrolment.converted', 'enrolment.cancelled', 'enrolment.failed')
        group by a.enrolment_id, a.action having count(*) > 1`, [key]);
    expect(ends).toEqual([]);
    expect((await query<{ n: number }>(`select count(*)::int as n from audit_records a join enrolments e on e.id = a.enrolment_id
      where e.journey_key = $1 and a.action = 'enrolment.completed'`, [key]))[0]!.n).toBe(N);

    // No email twice at the SMTP server; one missing only where a kill cut a send (settled unknown).
    const perAddress = new Map<string, number>();
    for (const m of smtp.messages) for (const to of m.envelopeTo) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    expect(emails.filter((e) => (perAddress.get(e) ?? 0) > 1)).toEqual([]);
    const unknown = (await query<{ n: number }>(`select count(*)::int as n from outgoing_emails o join enrolments e on e.id = o.enrolment_id
      where e.journey_key = $1 and o.status = 'unknown'`, [key]))[0]!.n;
    expect(emails.filter((e) => !perAddress.has(e)).length).toBeLessThanOrEqual(unknown);

    // No webhook twice at the receiver, every one signed.
    const hooks = new Map<string, number>();
    for (const r of receiver.delivered()) hooks.set(r.json.email, (hooks.get(r.json.email) ?? 0) + 1);
    expect([...hooks.values()].filter((n) => n > 1)).toEqual([]);
    expect(receiver.received.every((r) => r.signatureValid)).toBe(true);

    // No CRM write twice: each contact's score moved exactly once.
    expect(await query(`select c.score, count(*)::int as n from contacts c join enrolments e on e.contact_id = c.id
      where e.journey_key = $1 group by c.score`, [key])).toEqual([{ score: 1, n: N }]);

    const verify = await api(1, 'GET', '/v1/audit/verify');
    expect(verify.body).toMatchObject({ ok: true });
    await receiver.close();
  }, 20 * 60_000);
});

import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { sql } from 'drizzle-orm';
import { startTemporalDevServer, type DevServer } from '../../runtime/temporal-dev-server';
import { testEnvironment } from '../support/env';
import { eventually, startHarness, TEST_SECRETS, uniqueEmail, type Harness } from '../support/harness';
import { restartPostgres } from '../support/postgres-restart';
import { startWebhookReceiver } from '../support/webhook-receiver';
import { startWorkerProcess } from '../support/worker-process';

const N = Number(process.env.FAULT_N ?? 500);
const ROOT = path.resolve(__dirname, '..', '..');

/**
 * Faults while journeys run: the worker is a separate process, killed with SIGKILL again and
 * again; the SMTP server goes away for a while. Afterwards every enrolment has ended, no email or
 * webhook reached its receiver twice, no CRM write was applied twice, and the audit chains verify.
 */
describe('faults', () => {
  let h: Harness;
  let worker: ChildProcess | undefined;
  let temporalAddress = '';
  const startWorker = () => { worker = startWorkerProcess(h, { temporalAddress, env: { DATA_DIR: path.join(ROOT, '.data', 'faults') } }); };
  let server: DevServer;
  let dir: string;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>> | undefined;
  beforeAll(async () => {
    // Its own file-backed Temporal server, so the test can restart it.
    dir = mkdtempSync(path.join(tmpdir(), 'nurture-faults-'));
    server = await startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), uiPort: false, logLevel: 'error' });
    temporalAddress = server.address;
    h = await startHarness({ worker: false, temporalAddress });
  });
  afterAll(async () => {
    // Closed here too, so a failed assertion does not leave the receiver holding jest open.
    await receiver?.close();
    worker?.kill('SIGKILL');
    await h?.stop();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`${N} journeys survive kill -9 of the worker, a PostgreSQL restart, a Temporal restart and an SMTP outage, with every side effect once`, async () => {
    receiver = await startWebhookReceiver(TEST_SECRETS.webhook);
    const key = await h.publish({ steps: [
      { id: 'mail', type: 'send_email', subject: 'Hello {{ contact.email }}', text: 'x', category: 'transactional', transactionalReason: 'test receipt', next: 'pause' },
      { id: 'pause', type: 'wait', duration: '2s', next: 'score' },
      { id: 'score', type: 'update_contact', scoreDelta: 1, next: 'hook' },
      { id: 'hook', type: 'notify', url: `${receiver!.url}/hook`, body: { email: '{{ contact.email }}' } },
    ] });
    startWorker();
    const emails = Array.from({ length: N }, (_, i) => uniqueEmail(`fault${i}`));
    for (let i = 0; i < N; i += 250) {
      const res = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: emails.slice(i, i + 250).map((email) => ({ contact: { email } })) });
      expect(res.body.created).toBe(Math.min(250, N - i));
    }
    // Kill the worker with SIGKILL five times while the journeys run, restarting it each time.
    for (let round = 0; round < 5; round++) {
      await new Promise((r) => setTimeout(r, 2_500));
      worker!.kill('SIGKILL');
      await new Promise((r) => setTimeout(r, 300));
      startWorker();
      if (round === 1) {
        // PostgreSQL restarts (or, where it is not ours to restart, drops every connection).
        const how = await restartPostgres(testEnvironment().databaseUrl, h.admin.db);
        process.stderr.write(`faults: PostgreSQL ${how}\n`);
      }
      if (round === 2) {
        // The mail server goes away for a while.
        await h.smtp.pause(4_000);
      }
      if (round === 3) {
        // The Temporal server restarts (its state is in a file).
        const port = Number(server.address.split(':')[1]);
        await server.stop();
        await new Promise((r) => setTimeout(r, 1_000));
        server = await startTemporalDevServer({ dbFile: path.join(dir, 'temporal.db'), port, uiPort: false, logLevel: 'error' });
      }
    }
    const running = async () => Number((await h.database.db.execute(sql`select count(*)::int as n from enrolments where journey_key = ${key} and status = 'running'`) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n);
    await eventually(async () => (await running()) === 0, 480_000);

    const statuses = (await h.database.db.execute(sql`select status, count(*)::int as n from enrolments where journey_key = ${key} group by status`) as unknown as { rows: Array<{ status: string; n: number }> }).rows;
    expect(statuses).toEqual([{ status: 'completed', n: N }]);
    const perAddress = new Map<string, number>();
    for (const m of h.smtp.messages) for (const to of m.envelopeTo) perAddress.set(to, (perAddress.get(to) ?? 0) + 1);
    const delivered = emails.map((e) => perAddress.get(e) ?? 0);
    expect(delivered.filter((n) => n > 1)).toEqual([]);
    // A send cut off by a kill between the server's acceptance and the ledger is never repeated:
    // such a contact may have 0 emails (audited as unknown), never 2.
    const unknown = Number((await h.database.db.execute(sql`select count(*)::int as n from outgoing_emails o join enrolments e on e.id = o.enrolment_id where e.journey_key = ${key} and o.status = 'unknown'`) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n);
    expect(delivered.filter((n) => n === 0).length).toBeLessThanOrEqual(unknown);
    const hooks = new Map<string, number>();
    for (const r of receiver!.delivered()) hooks.set(r.json.email, (hooks.get(r.json.email) ?? 0) + 1);
    expect([...hooks.values()].filter((n) => n > 1)).toEqual([]);
    const scores = (await h.database.db.execute(sql`select c.score, count(*)::int as n from contacts c join enrolments e on e.contact_id = c.id where e.journey_key = ${key} group by c.score`) as unknown as { rows: Array<{ score: number; n: number }> }).rows;
    expect(scores).toEqual([{ score: 1, n: N }]);
    // The audit chains verify: a background verification, run by the worker, finds nothing.
    const started = await h.api('POST', '/v1/audit/verifications');
    expect(started.status).toBe(202);
    const verification = await eventually(async () => {
      const v = (await h.api('GET', `/v1/audit/verifications/${started.body.id}`)).body;
      return v.status !== 'running' && v;
    }, 120_000);
    expect(verification).toMatchObject({ status: 'completed', ok: true, findingsTotal: 0 });
  }, 600_000);
});

/**
 * `npm run bench`: Nurture against raw Temporal on the same dev server and PostgreSQL, in the
 * same run. Prints ratios, writes bench/results.json and bench/RESULTS.md. Sizes via BENCH_N,
 * BENCH_BULK, BENCH_EVENTS, BENCH_ASLEEP.
 */
import { cpus, totalmem } from 'node:os';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import pino from 'pino';
import { sql } from 'drizzle-orm';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';
import { startHarness, uniqueEmail, type Harness } from '../test/support/harness';
import { testEnvironment } from '../test/support/env';
import { createMailer } from '../services/mailer';
import { baselineActivities } from './baseline-activities';

const N = Number(process.env.BENCH_N ?? 200);
const BULK = Number(process.env.BENCH_BULK ?? 1000);
const EVENTS = Number(process.env.BENCH_EVENTS ?? 50);
const ASLEEP = Number(process.env.BENCH_ASLEEP ?? 10_000);
const log = (...args: unknown[]) => console.log('[bench]', ...args);

async function pool<T>(count: number, concurrency: number, fn: (i: number) => Promise<T>): Promise<T[]> {
  const out = new Array<T>(count);
  let next = 0;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (next < count) { const i = next++; out[i] = await fn(i); }
  }));
  return out;
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const percentile = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!; };

async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs = 600_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface Row { scenario: string; nurture: number; baseline: number; unit: string; ratio: number; target: string; met: boolean }

async function main() {
  await globalSetup();
  const rows: Row[] = [];
  const h: Harness = await startHarness({ emailRatePerSecond: 100_000 });
  const env = testEnvironment();
  const mailer = createMailer(h.smtp.url, pino({ level: 'silent' }));
  const bundle = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  const baselineQueue = `${h.taskQueue}-baseline`;
  const connection = await NativeConnection.connect({ address: env.temporalAddress });
  const baselineWorker = await Worker.create({
    connection, taskQueue: baselineQueue, workflowBundle: bundle,
    activities: baselineActivities(h.database.db, mailer, { from: 'Bench <bench@nurture.test>', publicUrl: h.baseUrl, signingSecret: 'x'.repeat(32), tracking: false, consentMode: 'opt_out' }),
  });
  const baselineRun = baselineWorker.run();
  const add = (scenario: string, nurture: number, baseline: number, unit: string, higherIsBetter: boolean, target: number) => {
    const ratio = nurture / baseline;
    const met = higherIsBetter ? ratio >= target : ratio <= target;
    rows.push({ scenario, nurture: round(nurture), baseline: round(baseline), unit, ratio: round(ratio), target: `${higherIsBetter ? '≥' : '≤'} ${target}`, met });
    log(scenario, { nurture: round(nurture), baseline: round(baseline), ratio: round(ratio), met });
  };

  // 1. Single enrolment through the API vs raw starts of an empty workflow.
  const waitKey = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
  const ours1 = await timed(() => pool(N, 10, (i) => h.api('POST', `/v1/journeys/${waitKey}/enrolments`, { contact: { email: uniqueEmail(`s${i}`) } })));
  const raw1 = await timed(() => pool(N, 10, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-empty-${Date.now()}-${i}` })));
  add('enrolment, single (per second)', N / ours1, N / raw1, 'per s', true, 0.8);

  // 2. Bulk enrolment vs raw starts.
  const items = Array.from({ length: BULK }, (_, i) => ({ contact: { email: uniqueEmail(`b${i}`) } }));
  const ours2 = await timed(() => h.api('POST', `/v1/journeys/${waitKey}/enrolments/bulk`, { items }));
  const raw2 = await timed(() => pool(BULK, 16, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-bulk-${Date.now()}-${i}` })));
  add('enrolment, bulk (per second)', BULK / ours2, BULK / raw2, 'per s', true, 0.9);

  // 3. Journeys completed per second: condition → email → update_contact.
  const journeyKey = await h.publish({ steps: [
    { id: 'check', type: 'branch', cases: [{ condition: { field: 'contact.score', op: 'gte', value: 0 }, next: 'mail' }] },
    { id: 'mail', type: 'send_email', subject: 'Hello', text: 'Hi', next: 'tag' },
    { id: 'tag', type: 'update_contact', addTags: ['bench'] },
  ] });
  const contacts = await pool(N, 16, async (i) => (await h.api('POST', '/v1/contacts', { email: uniqueEmail(`j${i}`) })).body.id as string);
  const ours3 = await timed(async () => {
    const res = await h.api('POST', `/v1/journeys/${journeyKey}/enrolments/bulk`, { items: contacts.map((contactId) => ({ contactId })) });
    await pool(N, 32, (i) => h.result(res.body.results[i].enrolment.workflowId));
  });
  const contacts2 = await pool(N, 16, async (i) => (await h.api('POST', '/v1/contacts', { email: uniqueEmail(`k${i}`) })).body.id as string);
  const raw3 = await timed(() => pool(N, 32, async (i) => {
    const handle = await h.client.workflow.start('handWrittenJourney', { taskQueue: baselineQueue, workflowId: `bench-hand-${Date.now()}-${i}`, args: [{ contactId: contacts2[i]!, score: 1, key: `bench-hand-${i}-${Date.now()}` }] });
    await handle.result();
  }));
  add('journeys completed (per second)', N / ours3, N / raw3, 'per s', true, 0.7);

  // 4. Event-to-action latency: POST /v1/events waking a wait_for_event until the SMTP sink has the email.
  const eventKey = await h.publish({ steps: [{ id: 'wait', type: 'wait_for_event', event: 'ping', timeout: '1h', next: 'mail' }, { id: 'mail', type: 'send_email', subject: 'Pong', text: 'x' }] });
  const waiting = await pool(EVENTS, 8, async (i) => (await h.api('POST', `/v1/journeys/${eventKey}/enrolments`, { contact: { email: uniqueEmail(`e${i}`) } })).body);
  await waitFor(async () => Number((await h.database.db.execute(sql`select count(*)::int as n from enrolments where journey_key = ${eventKey} and current_step = 'wait'`) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n) === EVENTS);
  const ours4: number[] = [];
  for (const e of waiting) {
    const email = (await h.api('GET', `/v1/contacts/${e.contactId}`)).body.email;
    const t = performance.now();
    await h.api('POST', '/v1/events', { contactId: e.contactId, name: 'ping' });
    await waitFor(() => h.smtp.to(email).length > 0);
    ours4.push(performance.now() - t);
  }
  const rawHandles = await pool(EVENTS, 8, async (i) => {
    const c = await h.api('POST', '/v1/contacts', { email: uniqueEmail(`r${i}`) });
    const handle = await h.client.workflow.start('signalThenEmail', { taskQueue: baselineQueue, workflowId: `bench-sig-${Date.now()}-${i}`, args: [{ contactId: c.body.id, key: `bench-sig-${i}-${Date.now()}` }] });
    return { handle, email: c.body.email as string };
  });
  await new Promise((r) => setTimeout(r, 1000));
  const raw4: number[] = [];
  for (const { handle, email } of rawHandles) {
    const t = performance.now();
    await handle.signal('wake');
    await waitFor(() => h.smtp.to(email).length > 0);
    raw4.push(performance.now() - t);
  }
  add('event-to-action p50 (ms)', percentile(ours4, 50), percentile(raw4, 50), 'ms', false, 2);
  add('event-to-action p99 (ms)', percentile(ours4, 99), percentile(raw4, 99), 'ms', false, 2);

  // 5. API throughput of a read route vs a bare Fastify route.
  const contactId = contacts[0]!;
  const bare = Fastify();
  const sample = (await h.api('GET', `/v1/contacts/${contactId}`)).body;
  bare.get('/v1/contacts/:id', async () => sample);
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as { port: number }).port}`;
  const cannon = (url: string) => autocannon({ url, connections: 10, duration: 5, headers: { authorization: `Bearer ${h.keys.service}` } });
  const oursApi = await cannon(`${h.baseUrl}/v1/contacts/${contactId}`);
  const bareApi = await cannon(`${bareUrl}/v1/contacts/${contactId}`);
  add('API read route (requests/s)', oursApi.requests.average, bareApi.requests.average, 'req/s', true, 0.25);
  await bare.close();

  // 6. Worker memory with enrolments asleep in waits.
  const idleRss = process.memoryUsage().rss / 2 ** 20;
  for (let done = 0; done < ASLEEP; done += 1000) {
    const size = Math.min(1000, ASLEEP - done);
    await h.api('POST', `/v1/journeys/${waitKey}/enrolments/bulk`, { items: Array.from({ length: size }, (_, i) => ({ contact: { email: uniqueEmail(`z${done + i}`) } })) });
  }
  await waitFor(async () => Number((await h.database.db.execute(sql`select count(*)::int as n from enrolments where journey_key = ${waitKey} and current_step = 'w'`) as unknown as { rows: Array<{ n: number }> }).rows[0]!.n) >= ASLEEP);
  global.gc?.();
  const asleepRss = process.memoryUsage().rss / 2 ** 20;
  rows.push({ scenario: `process RSS with ${ASLEEP} asleep (MB)`, nurture: round(asleepRss), baseline: round(idleRss), unit: 'MB', ratio: round(asleepRss / idleRss), target: '< 400 MB', met: asleepRss < 400 });
  log('rss', { idleRss, asleepRss });

  baselineWorker.shutdown();
  await baselineRun;
  await connection.close();
  mailer.close();
  await h.stop();
  await globalTeardown();
  report(rows);
  process.exit(0);
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

function report(rows: Row[]) {
  const machine = `${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}`;
  writeFileSync(path.join(__dirname, 'results.json'), JSON.stringify({ at: new Date().toISOString(), machine, sizes: { N, BULK, EVENTS, ASLEEP }, rows }, null, 2));
  const md = [
    `# Benchmark results`, '', `Run ${new Date().toISOString()} on ${machine}; sizes N=${N}, bulk=${BULK}, events=${EVENTS}, asleep=${ASLEEP}.`,
    'Nurture and its baseline run on the same Temporal dev server and PostgreSQL, in the same run (`npm run bench`).', '',
    '| scenario | Nurture | baseline | ratio | target | met |', '|---|---|---|---|---|---|',
    ...rows.map((r) => `| ${r.scenario} | ${r.nurture} | ${r.baseline} | ${r.ratio} | ${r.target} | ${r.met ? 'yes' : 'no'} |`), '',
  ].join('\n');
  writeFileSync(path.join(__dirname, 'RESULTS.md'), md);
  console.log(`\n${md}`);
}

main().catch(async (err) => {
  console.error(err);
  await globalTeardown().catch(() => undefined);
  process.exit(1);
});

/**
 * `npm run bench -- --cluster`: Nurture on the production topology (test/cluster/deployment.ts: a
 * Temporal cluster on PostgreSQL, one process per service, API and worker processes as deployed)
 * against raw Temporal on the same cluster, with 1 and then 2 API and worker processes.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { bundleWorkflowCode, NativeConnection } from '@temporalio/worker';
import { startClusterDeployment, type ClusterDeployment } from '../test/cluster/deployment';
import { log, pool, timed, type Results } from './support';

const ROOT = path.resolve(__dirname, '..');

/** Starts a baseline journey worker process and resolves once it polls. */
function startBaselineWorker(d: ClusterDeployment, queue: string, bundle: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'baseline-journey-worker.ts')], {
    cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_TEMPORAL_ADDRESS: d.temporal.address, BENCH_TASK_QUEUE: queue, BENCH_BUNDLE: bundle, BENCH_DATABASE_URL: d.appDatabaseUrl, BENCH_SMTP_URL: d.smtp.url },
  });
  return new Promise((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`baseline worker exited with ${code}`)));
    child.stdout!.on('data', (chunk: Buffer) => { if (chunk.toString().includes('ready')) resolve(child); });
  });
}

async function stopChild(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await gone;
}

export async function clusterBench(results: Results, sizes: { enrolments: number; journeys: number }): Promise<void> {
  const d = await startClusterDeployment({ apis: 2, workers: 2 });
  const connection = await NativeConnection.connect({ address: d.temporal.address });
  const client = new Client({ connection });
  const baselineQueue = `cluster-${d.id}-baseline`;
  const bundlePath = path.join(tmpdir(), `nurture-bench-cluster-${process.pid}.js`);
  const { code } = await bundleWorkflowCode({ workflowsPath: require.resolve('./baseline-workflows'), logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } });
  writeFileSync(bundlePath, code);
  const baselineWorkers: ChildProcess[] = [];
  let batch = 0;
  try {
    const publish = async (key: string, steps: unknown[]) => {
      if ((await d.api(0, 'POST', '/v1/journeys', { key, name: key, definition: { steps } })).status !== 201) throw new Error(`create ${key}`);
      if ((await d.api(0, 'POST', `/v1/journeys/${key}/publish`)).status !== 201) throw new Error(`publish ${key}`);
    };
    const asleep = `bench-asleep-${d.id}`.replace(/_/g, '-');
    await publish(asleep, [{ id: 'w', type: 'wait', duration: '1h' }]);
    const journey = `bench-journey-${d.id}`.replace(/_/g, '-');
    await publish(journey, [
      { id: 'check', type: 'branch', cases: [{ condition: { field: 'contact.score', op: 'gte', value: 0 }, next: 'mail' }] },
      { id: 'mail', type: 'send_email', subject: 'Hello', text: 'Hi', next: 'tag' },
      { id: 'tag', type: 'update_contact', addTags: ['bench'] },
    ]);

    // Enrolments per second: bulk requests of 100 new contacts, 2 in flight per API process, over
    // `apis` processes; raw starts of an empty workflow with 16 in flight per "process".
    const enrol = async (apis: number, n: number) => {
      const b = batch++;
      return n / (await timed(() => pool(Math.ceil(n / 100), 2 * apis, async (r) => {
        const items = Array.from({ length: Math.min(100, n - r * 100) }, (_, i) => ({ contact: { email: `e${b}-${r}-${i}.${d.id}@bench.test` } }));
        const res = await d.api(r % apis, 'POST', `/v1/journeys/${asleep}/enrolments/bulk`, { items });
        if (res.body.created !== items.length) throw new Error(`bulk enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      })));
    };
    const rawStarts = async (starters: number, n: number) => {
      const stamp = `${d.id}-${batch++}`;
      return n / (await timed(() => pool(n, 16 * starters, (i) => client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-empty-${stamp}-${i}` }))));
    };
    await enrol(2, 200);
    await rawStarts(1, 200);
    const rates = { raw1: await rawStarts(1, sizes.enrolments), ours1: await enrol(1, sizes.enrolments), ours2: await enrol(2, sizes.enrolments), raw2: await rawStarts(2, sizes.enrolments) };
    log('cluster enrolments per second', rates);
    results.ratio('cluster: enrolment, bulk, 1 API process (per second)', rates.ours1, rates.raw1, 'per s', true, 0.9);
    results.ratio('cluster: enrolment, bulk, 2 API processes (per second)', rates.ours2, rates.raw2, 'per s', true, 0.9);
    results.ratio('cluster: enrolment scaling, 1 → 2 processes (×)', rates.ours2 / rates.ours1, rates.raw2 / rates.raw1, '×', true, 0.9);

    // Journeys completed per second (branch → email → CRM update) with `workers` worker processes,
    // against the hand-written workflow on as many baseline worker processes.
    const contacts = async (n: number) => pool(n, 16, async (i) => (await d.api(i % 2, 'POST', '/v1/contacts', { email: `j${batch}-${i}.${d.id}@bench.test` })).body.id as string);
    const completed = async () => (await d.query<{ n: number }>(`select count(*)::int as n from enrolments where journey_key = $1 and status = 'completed'`, [journey]))[0]!.n;
    const journeys = async (n: number) => {
      const ids = await contacts(n);
      batch++;
      const before = await completed();
      return n / (await timed(async () => {
        const res = await d.api(0, 'POST', `/v1/journeys/${journey}/enrolments/bulk`, { items: ids.map((contactId) => ({ contactId })) });
        if (res.body.created !== n) throw new Error(`bulk enrolment: ${res.status}`);
        const deadline = Date.now() + 600_000;
        while ((await completed()) < before + n) {
          if (Date.now() > deadline) throw new Error('journeys did not complete');
          await new Promise((r) => setTimeout(r, 200));
        }
      }));
    };
    const handWritten = async (n: number) => {
      const ids = await contacts(n);
      const stamp = `${d.id}-${batch++}`;
      return n / (await timed(() => pool(n, 32, async (i) => {
        const handle = await client.workflow.start('handWrittenJourney', { taskQueue: baselineQueue, workflowId: `bench-hand-${stamp}-${i}`, args: [{ contactId: ids[i]!, score: 1, key: `bench-hand-${stamp}-${i}` }] });
        await handle.result();
      })));
    };
    // One worker process of each side first: the second Nurture worker stops for now.
    await d.workers[1]!.process.stop('SIGTERM');
    baselineWorkers.push(await startBaselineWorker(d, baselineQueue, bundlePath));
    await journeys(50);
    await handWritten(50);
    const one = { raw: await handWritten(sizes.journeys), ours: await journeys(sizes.journeys) };
    await d.startWorker(1, d.releases[0]!);
    baselineWorkers.push(await startBaselineWorker(d, baselineQueue, bundlePath));
    const two = { ours: await journeys(sizes.journeys), raw: await handWritten(sizes.journeys) };
    log('cluster journeys per second', { one, two });
    results.ratio('cluster: journeys completed, 1 worker process (per second)', one.ours, one.raw, 'per s', true, 0.7);
    results.ratio('cluster: journeys completed, 2 worker processes (per second)', two.ours, two.raw, 'per s', true, 0.7);
    results.ratio('cluster: journeys scaling, 1 → 2 processes (×)', two.ours / one.ours, two.raw / one.raw, '×', true, 0.9);
  } finally {
    await Promise.all(baselineWorkers.map(stopChild));
    await connection.close();
    await d.stop();
  }
}

/**
 * `npm run bench`: Nurture against raw Temporal on the same dev server and PostgreSQL, in the
 * same run. Prints ratios, writes bench/results.json and bench/RESULTS.md. Sizes via BENCH_N,
 * BENCH_BULK, BENCH_EVENTS, BENCH_ASLEEP, BENCH_CYCLES; BENCH_ONLY=enrol,bulk,journeys,events,api,results,memory picks
 * scenarios (their rows replace the same rows of the last run's results.json; the others stay, dated).
 */
import pino from 'pino';
import { bundleWorkflowCode, NativeConnection, Worker } from '@temporalio/worker';
import globalSetup from '../test/global-setup';
import globalTeardown from '../test/global-teardown';
import { startHarness } from '../test/support/harness';
import { testEnvironment } from '../test/support/env';
import { createMailer } from '../services/email/mailer';
import { apiRead } from './api-read';
import { baselineActivities } from './baseline-activities';
import { clusterBench } from './cluster';
import { bulkEnrolment, singleEnrolment, type BenchContext } from './enrolment';
import { eventToAction } from './events';
import { journeysCompleted } from './journeys';
import { resultsAtScale } from './results';
import { Results } from './support';
import { workerMemory } from './worker-memory';

const sizes = {
  N: Number(process.env.BENCH_N ?? 200),
  BULK: Number(process.env.BENCH_BULK ?? 1000),
  EVENTS: Number(process.env.BENCH_EVENTS ?? 50),
  ASLEEP: Number(process.env.BENCH_ASLEEP ?? 10_000),
  /** ABBA cycles of the throughput scenarios (read in support.ts). */
  CYCLES: Number(process.env.BENCH_CYCLES ?? 2),
  RESULTS_RECORDS: Number(process.env.BENCH_RESULTS_RECORDS ?? 1_000_000),
};
const CLUSTER_NOTE = 'Rows starting "cluster:" come from `npm run bench -- --cluster`: a Temporal cluster on PostgreSQL (frontend, matching, worker, two history processes; deploy/temporal/cluster.sh), Nurture as deployed (compiled, production mode, runtime database role) with 1 then 2 API and worker processes, against raw starts of an empty workflow (16 in flight per starter) and the hand-written journey on as many plain worker processes (run through tsx), on the same cluster in the same run. One round per configuration; scaling rows compare each side\'s 2-process rate to its 1-process rate.';
/** The notes under the table: what each baseline is, and how the cluster rows are measured. */
const NOTES = [
  'Baselines: enrolment against `client.workflow.start` of an empty workflow; journeys against a hand-written workflow calling the same email and contact services; events against a raw signal to an activity; the read route against a bare Fastify route serving the same JSON from memory; memory against a plain Temporal worker process (SDK defaults) holding as many workflows asleep.',
  'The results rows time the stats route and the results page (p99 of 200 requests, one at a time) of a journey holding BENCH_RESULTS_RECORDS audit records, bulk-inserted through the results trigger; their baseline is one rescan of the audit for the per-step entered count (what the route ran, with five more such queries, before the counters).',
  'The memory scenario measures the worker process alone, as deployed (`npm run build`, `node dist/bin/worker.js`, NODE_ENV=production, pre-built workflow bundle, the heap and malloc settings of docker-compose.yml), against the baseline worker compiled the same way, with /proc/<pid>/status VmRSS.',
  CLUSTER_NOTE,
];
const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
const wanted = (name: string) => !only || only.includes(name);

/** `npm run bench -- --cluster`: only the cluster scenarios; their rows join the last results. */
async function cluster() {
  const results = new Results();
  const clusterSizes = { CLUSTER_ENROL: Number(process.env.BENCH_CLUSTER_ENROL ?? 1000), CLUSTER_JOURNEYS: Number(process.env.BENCH_CLUSTER_JOURNEYS ?? 300) };
  await clusterBench(results, { enrolments: clusterSizes.CLUSTER_ENROL, journeys: clusterSizes.CLUSTER_JOURNEYS });
  results.write(clusterSizes, NOTES, true);
  process.exit(0);
}

async function main() {
  if (process.argv.includes('--cluster')) return cluster();
  await globalSetup();
  const results = new Results();
  // Production's default pool (DATABASE_POOL_SIZE=10), shared by the API and the worker as in `npm start`.
  const h = await startHarness({ emailRatePerSecond: 100_000, databasePoolSize: 10 });
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
  const ctx: BenchContext = { h, results, baselineQueue };

  if (wanted('enrol')) await singleEnrolment(ctx, sizes.N);
  if (wanted('bulk')) await bulkEnrolment(ctx, sizes.BULK);
  if (wanted('journeys')) await journeysCompleted(ctx, sizes.N);
  if (wanted('events')) await eventToAction(ctx, sizes.EVENTS);
  if (wanted('api')) await apiRead(ctx);
  if (wanted('results')) await resultsAtScale(ctx, sizes.RESULTS_RECORDS);
  baselineWorker.shutdown();
  await baselineRun;
  if (wanted('memory')) {
    const rss = await workerMemory(ctx, sizes.ASLEEP);
    results.ceiling(`worker process RSS with ${sizes.ASLEEP} asleep (MB)`, rss.ours, rss.raw, 'MB', 400);
  }

  await connection.close();
  mailer.close();
  await h.stop();
  await globalTeardown();
  results.write(sizes, NOTES, only !== undefined);
  process.exit(0);
}

main().catch(async (err) => {
  console.error(err);
  await globalTeardown().catch(() => undefined);
  process.exit(1);
});

/**
 * A baseline worker process for the cluster bench: a plain Temporal worker (SDK defaults) running
 * the hand-written journey (bench/baseline-workflows.ts) with the same two services Nurture's
 * steps call, in a process of its own as Nurture's workers are. Prints `ready` once polling.
 */
import pino from 'pino';
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { openDatabase } from '../db/client';
import { createMailer } from '../services/email/mailer';
import { baselineActivities } from './baseline-activities';

async function main() {
  const { BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE, BENCH_DATABASE_URL, BENCH_SMTP_URL } = process.env;
  if (!BENCH_TEMPORAL_ADDRESS || !BENCH_TASK_QUEUE || !BENCH_BUNDLE || !BENCH_DATABASE_URL || !BENCH_SMTP_URL) {
    throw new Error('BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE, BENCH_DATABASE_URL and BENCH_SMTP_URL are required');
  }
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  const database = await openDatabase({ url: BENCH_DATABASE_URL });
  const mailer = createMailer(BENCH_SMTP_URL, pino({ level: 'silent' }));
  const connection = await NativeConnection.connect({ address: BENCH_TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection, taskQueue: BENCH_TASK_QUEUE, workflowBundle: { codePath: BENCH_BUNDLE },
    activities: baselineActivities(database.db, mailer, {
      from: 'Bench <bench@nurture.test>', publicUrl: 'http://127.0.0.1', signingSecret: 'x'.repeat(32), tracking: false, consentMode: 'opt_out',
    }),
  });
  console.log('ready');
  await worker.run();
  mailer.close();
  await connection.close();
  await database.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

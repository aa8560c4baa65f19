/**
 * The baseline worker process for the memory scenario: a plain Temporal worker with the SDK's
 * default options, running bench/baseline-workflows.ts from a pre-built bundle. Prints
 * `asleep <n>` whenever the number of workflows that reached their sleep grows.
 */
import { NativeConnection, Runtime, Worker } from '@temporalio/worker';

async function main() {
  const { BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE, BENCH_BUNDLE } = process.env;
  if (!BENCH_TEMPORAL_ADDRESS || !BENCH_TASK_QUEUE || !BENCH_BUNDLE) throw new Error('BENCH_TEMPORAL_ADDRESS, BENCH_TASK_QUEUE and BENCH_BUNDLE are required');
  Runtime.install({ logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error } as never });
  let asleep = 0;
  let reported = 0;
  const timer = setInterval(() => { if (asleep !== reported) { reported = asleep; console.log(`asleep ${asleep}`); } }, 200);
  const connection = await NativeConnection.connect({ address: BENCH_TEMPORAL_ADDRESS });
  const worker = await Worker.create({
    connection, taskQueue: BENCH_TASK_QUEUE, workflowBundle: { codePath: BENCH_BUNDLE },
    sinks: { bench: { asleep: { fn: () => { asleep += 1; } } } },
  });
  console.log('ready');
  await worker.run();
  clearInterval(timer);
  await connection.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

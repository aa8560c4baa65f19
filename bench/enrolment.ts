import type { Harness } from '../test/support/harness';
import { uniqueEmail } from '../test/support/harness';
import { pool, timed, type Results } from './support';

export interface BenchContext {
  h: Harness;
  results: Results;
  /** The task queue of the in-process baseline worker (bench/baseline-workflows.ts). */
  baselineQueue: string;
}

/** A published journey that waits an hour: enrolments stay asleep. */
export function publishWaitJourney(h: Harness): Promise<string> {
  return h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
}

/** Single enrolments through the API against raw starts of an empty workflow, 10 in flight each. */
export async function singleEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  const stamp = Date.now();
  const ours = await timed(() => pool(n, 10, (i) => h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(`s${i}`) } })));
  const raw = await timed(() => pool(n, 10, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-empty-${stamp}-${i}` })));
  results.ratio('enrolment, single (per second)', n / ours, n / raw, 'per s', true, 0.8);
}

/** One bulk request of `n` new contacts against `n` raw starts, 16 in flight. */
export async function bulkEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  const stamp = Date.now();
  const items = Array.from({ length: n }, (_, i) => ({ contact: { email: uniqueEmail(`b${i}`) } }));
  const ours = await timed(async () => {
    const res = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items });
    if (res.status !== 200 || res.body.created !== n) throw new Error(`bulk enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  });
  const raw = await timed(() => pool(n, 16, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-bulk-${stamp}-${i}` })));
  results.ratio('enrolment, bulk (per second)', n / ours, n / raw, 'per s', true, 0.9);
}

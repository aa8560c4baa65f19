import type { Harness } from '../test/support/harness';
import { uniqueEmail } from '../test/support/harness';
import { log, pool, profiled, round, type Results } from './support';

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

/**
 * Baseline, Nurture, Nurture, baseline, after an unmeasured warm-up of each (JIT, caches,
 * connections): drift in the shared server weighs on both sides alike. Logs each round's CPU
 * seconds per component; returns total seconds.
 */
async function abba(name: string, n: number, ours: (count: number) => Promise<unknown>, raw: (count: number) => Promise<unknown>) {
  await raw(Math.ceil(n / 4));
  await ours(Math.ceil(n / 4));
  const rounds = [await profiled(() => raw(n)), await profiled(() => ours(n)), await profiled(() => ours(n)), await profiled(() => raw(n))];
  log(`${name}: rounds (ABBA), wall and CPU seconds`, rounds.map((r) => ({ seconds: round(r.seconds), ...r.cpu })));
  return { ours: rounds[1]!.seconds + rounds[2]!.seconds, raw: rounds[0]!.seconds + rounds[3]!.seconds };
}

/** Single enrolments of new contacts through the API against raw starts of an empty workflow, 10 in flight each. */
export async function singleEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  let batch = 0;
  const { ours, raw } = await abba('enrolment, single', n,
    (count) => {
      const b = batch++;
      return pool(count, 10, async (i) => {
        const res = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(`s${b}-${i}`) } });
        if (res.status !== 201) throw new Error(`enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      });
    },
    (count) => {
      const stamp = `${Date.now()}-${batch++}`;
      return pool(count, 10, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-empty-${stamp}-${i}` }));
    });
  results.ratio('enrolment, single (per second)', (2 * n) / ours, (2 * n) / raw, 'per s', true, 0.8);
}

/** Bulk requests of `n` new contacts against `n` raw starts, 16 in flight. */
export async function bulkEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  let batch = 0;
  const { ours, raw } = await abba('enrolment, bulk', n,
    async (count) => {
      const b = batch++;
      const items = Array.from({ length: count }, (_, i) => ({ contact: { email: uniqueEmail(`b${b}-${i}`) } }));
      const res = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items });
      if (res.status !== 200 || res.body.created !== count) throw new Error(`bulk enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    },
    (count) => {
      const stamp = `${Date.now()}-${batch++}`;
      return pool(count, 16, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-bulk-${stamp}-${i}` }));
    });
  results.ratio('enrolment, bulk (per second)', (2 * n) / ours, (2 * n) / raw, 'per s', true, 0.9);
}

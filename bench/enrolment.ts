import type { Harness } from '../test/support/harness';
import { uniqueEmail } from '../test/support/harness';
import { abba, jsonPoster, pool, profiled, type Results } from './support';

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

/** `abba` over functions enrolling `count` items, each round timed and profiled. */
function cycles(name: string, n: number, ours: (count: number) => Promise<unknown>, raw: (count: number) => Promise<unknown>) {
  return abba(name, () => profiled(() => ours(n)), () => profiled(() => raw(n)),
    { ours: () => ours(Math.ceil(n / 4)), raw: () => raw(Math.ceil(n / 4)) });
}

/** Single enrolments of new contacts through the API against raw starts of an empty workflow, 10 in flight each. */
export async function singleEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  const post = jsonPoster(h.baseUrl, h.keys.service);
  let batch = 0;
  const { ours, raw, roundsPerSide } = await cycles('enrolment, single', n,
    (count) => {
      const b = batch++;
      return pool(count, 10, async (i) => {
        const res = await post(`/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(`s${b}-${i}`) } });
        if (res.status !== 201) throw new Error(`enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
      });
    },
    (count) => {
      const stamp = `${Date.now()}-${batch++}`;
      return pool(count, 10, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-empty-${stamp}-${i}` }));
    });
  results.ratio('enrolment, single (per second)', (roundsPerSide * n) / ours, (roundsPerSide * n) / raw, 'per s', true, 0.8);
}

/** Bulk requests of `n` new contacts against `n` raw starts, 16 in flight. */
export async function bulkEnrolment({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await publishWaitJourney(h);
  const post = jsonPoster(h.baseUrl, h.keys.service);
  let batch = 0;
  const { ours, raw, roundsPerSide } = await cycles('enrolment, bulk', n,
    async (count) => {
      const b = batch++;
      const items = Array.from({ length: count }, (_, i) => ({ contact: { email: uniqueEmail(`b${b}-${i}`) } }));
      const res = await post(`/v1/journeys/${key}/enrolments/bulk`, { items }) as { status: number; body: { created?: number } };
      if (res.status !== 200 || res.body.created !== count) throw new Error(`bulk enrolment: ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
    },
    (count) => {
      const stamp = `${Date.now()}-${batch++}`;
      return pool(count, 16, (i) => h.client.workflow.start('emptyWorkflow', { taskQueue: baselineQueue, workflowId: `bench-bulk-${stamp}-${i}` }));
    });
  results.ratio('enrolment, bulk (per second)', (roundsPerSide * n) / ours, (roundsPerSide * n) / raw, 'per s', true, 0.9);
}

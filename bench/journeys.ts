import { uniqueEmail } from '../test/support/harness';
import type { BenchContext } from './enrolment';
import { log, pool, profiled, round } from './support';

/**
 * Journeys completed per second (branch on a contact field → email to the SMTP sink →
 * update_contact), enrolled in bulk, against a hand-written workflow calling the same two
 * services with 32 in flight; `n` journeys per round, rounds in the order ABBA.
 */
export async function journeysCompleted({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await h.publish({ steps: [
    { id: 'check', type: 'branch', cases: [{ condition: { field: 'contact.score', op: 'gte', value: 0 }, next: 'mail' }] },
    { id: 'mail', type: 'send_email', subject: 'Hello', text: 'Hi', next: 'tag' },
    { id: 'tag', type: 'update_contact', addTags: ['bench'] },
  ] });
  const newContacts = (prefix: string, count: number) => pool(count, 16, async (i) => (await h.api('POST', '/v1/contacts', { email: uniqueEmail(`${prefix}${i}`) })).body.id as string);
  const nurture = async (count = n) => {
    const contacts = await newContacts('j', count);
    return profiled(async () => {
      const res = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: contacts.map((contactId) => ({ contactId })) });
      await pool(count, 32, (i) => h.result(res.body.results[i].enrolment.workflowId));
    });
  };
  const handWritten = async (count = n) => {
    const contacts = await newContacts('k', count);
    const stamp = Date.now();
    return profiled(() => pool(count, 32, async (i) => {
      const handle = await h.client.workflow.start('handWrittenJourney', {
        taskQueue: baselineQueue, workflowId: `bench-hand-${stamp}-${i}`, args: [{ contactId: contacts[i]!, score: 1, key: `bench-hand-${stamp}-${i}` }],
      });
      await handle.result();
    }));
  };
  // Baseline, Nurture, Nurture, baseline: drift in the shared server (its SQLite grows, its
  // background tasks lag) weighs on both sides alike.
  // Warm up both (JIT, caches, connections), unmeasured.
  await handWritten(Math.ceil(n / 4));
  await nurture(Math.ceil(n / 4));
  const rounds = [await handWritten(), await nurture(), await nurture(), await handWritten()];
  const raw = rounds[0]!.seconds + rounds[3]!.seconds;
  const ours = rounds[1]!.seconds + rounds[2]!.seconds;
  log('journeys: rounds (ABBA), wall and CPU seconds', rounds.map((r) => ({ seconds: round(r.seconds), ...r.cpu })));
  results.ratio('journeys completed (per second)', (2 * n) / ours, (2 * n) / raw, 'per s', true, 0.7);
}

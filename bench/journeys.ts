import { uniqueEmail } from '../test/support/harness';
import type { BenchContext } from './enrolment';
import { abba, pool, profiled } from './support';

/**
 * Journeys completed per second (branch on a contact field → email to the SMTP sink →
 * update_contact), enrolled in bulk, against a hand-written workflow calling the same two
 * services with 32 in flight; `n` journeys per round, rounds in ABBA cycles (`abba`).
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
  const { ours, raw, roundsPerSide } = await abba('journeys', () => nurture(), () => handWritten(),
    { ours: () => nurture(Math.ceil(n / 4)), raw: () => handWritten(Math.ceil(n / 4)) });
  results.ratio('journeys completed (per second)', (roundsPerSide * n) / ours, (roundsPerSide * n) / raw, 'per s', true, 0.7);
}

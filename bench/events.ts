import { sql } from 'drizzle-orm';
import { uniqueEmail } from '../test/support/harness';
import type { BenchContext } from './enrolment';
import { percentile, pool, waitFor } from './support';

/**
 * Event-to-action latency: `POST /v1/events` waking a wait_for_event until the SMTP sink has the
 * email, one at a time, against a raw signal waking a workflow that sends through the same service.
 */
export async function eventToAction({ h, results, baselineQueue }: BenchContext, n: number): Promise<void> {
  const key = await h.publish({ steps: [
    { id: 'wait', type: 'wait_for_event', event: 'ping', timeout: '1h', next: 'mail' },
    { id: 'mail', type: 'send_email', subject: 'Pong', text: 'x' },
  ] });
  const waiting = await pool(n, 8, async (i) => (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(`e${i}`) } })).body);
  await waitFor(async () => {
    const { rows } = await h.database.db.execute(sql`select count(*)::int as n from enrolments where journey_key = ${key} and current_step = 'wait'`) as unknown as { rows: Array<{ n: number }> };
    return rows[0]!.n === n;
  });
  const ours: number[] = [];
  for (const e of waiting) {
    const email = (await h.api('GET', `/v1/contacts/${e.contactId}`)).body.email;
    const t = performance.now();
    await h.api('POST', '/v1/events', { contactId: e.contactId, name: 'ping' });
    await waitFor(() => h.smtp.to(email).length > 0);
    ours.push(performance.now() - t);
  }
  const stamp = Date.now();
  const rawHandles = await pool(n, 8, async (i) => {
    const c = await h.api('POST', '/v1/contacts', { email: uniqueEmail(`r${i}`) });
    const handle = await h.client.workflow.start('signalThenEmail', {
      taskQueue: baselineQueue, workflowId: `bench-sig-${stamp}-${i}`, args: [{ contactId: c.body.id, key: `bench-sig-${stamp}-${i}` }],
    });
    return { handle, email: c.body.email as string };
  });
  await new Promise((r) => setTimeout(r, 1000));
  const raw: number[] = [];
  for (const { handle, email } of rawHandles) {
    const t = performance.now();
    await handle.signal('wake');
    await waitFor(() => h.smtp.to(email).length > 0);
    raw.push(performance.now() - t);
  }
  results.ratio('event-to-action p50 (ms)', percentile(ours, 50), percentile(raw, 50), 'ms', false, 2);
  results.ratio('event-to-action p99 (ms)', percentile(ours, 99), percentile(raw, 99), 'ms', false, 2);
}

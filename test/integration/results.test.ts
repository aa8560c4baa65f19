import { assign } from '../../journey-language';
import { wilson } from '../../services/journeys/stats';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/** Journey results match a scripted set of enrolments exactly. */
describe('journey results', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('counts entered, waiting, converted, exited by reason and per-variant conversion', async () => {
    const key = await h.publish({
      goal: { event: 'purchased' },
      exits: [{ event: 'unsubscribed', reason: 'unsubscribed' }],
      steps: [
        { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 1, next: 'mail_a' }, { id: 'b', weight: 1, next: 'mail_b' }] },
        { id: 'mail_a', type: 'send_email', subject: 'A', text: 'a', next: 'hold' },
        { id: 'mail_b', type: 'send_email', subject: 'B', text: 'b', next: 'hold' },
        { id: 'hold', type: 'wait_for_event', event: 'never', timeout: '1h' },
      ],
    });
    const options = [{ id: 'a', weight: 1 }, { id: 'b', weight: 1 }];
    const groups: Record<string, Array<{ id: string; contactId: string; workflowId: string }>> = { a: [], b: [] };
    while (groups.a!.length < 3 || groups.b!.length < 3) {
      const c = await h.api('POST', '/v1/contacts', { email: uniqueEmail('stats') });
      const variant = assign(`${key}:ab:${c.body.id}`, options).id;
      if (groups[variant]!.length >= 3) continue;
      groups[variant]!.push((await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: c.body.id })).body);
    }
    const all = [...groups.a!, ...groups.b!];
    await Promise.all(all.map((e) => eventually(async () => (await h.api('GET', `/v1/enrolments/${e.id}`)).body.currentStep === 'hold')));
    const send = (e: { contactId: string }, name: string) => h.api('POST', '/v1/events', { contactId: e.contactId, name });
    await send(groups.a![0]!, 'purchased');
    await send(groups.a![1]!, 'unsubscribed');
    await send(groups.b![0]!, 'purchased');
    await send(groups.b![1]!, 'purchased');
    await Promise.all([groups.a![0]!, groups.a![1]!, groups.b![0]!, groups.b![1]!].map((e) => h.result(e.workflowId)));
    await eventually(async () => (await h.api('GET', `/v1/journeys/${key}/stats`)).body.versions[0].running === 2);

    const stats = (await h.api('GET', `/v1/journeys/${key}/stats`)).body.versions[0];
    expect(stats).toMatchObject({ version: 1, entered: 6, running: 2, completed: 0, converted: 3, cancelled: 0, failed: 0, exited: { total: 1, byReason: { unsubscribed: 1 } } });
    const steps = Object.fromEntries(stats.steps.map((s: { stepId: string }) => [s.stepId, s]));
    expect(steps.ab).toMatchObject({ entered: 6, waitingNow: 0 });
    expect(steps.mail_a).toMatchObject({ entered: 3 });
    expect(steps.mail_b).toMatchObject({ entered: 3 });
    expect(steps.hold).toMatchObject({ entered: 6, waitingNow: 2 });
    expect(steps.ab.medianSecondsInStep).toBeGreaterThanOrEqual(0);
    expect(stats.variants).toEqual([
      { variant: 'a', enrolments: 3, converted: 1, conversionRate: 0.3333, confidenceInterval: wilson(1, 3) },
      { variant: 'b', enrolments: 3, converted: 2, conversionRate: 0.6667, confidenceInterval: wilson(2, 3) },
    ]);

    // The page shows the same numbers (HTTP Basic with the key as password).
    const page = await fetch(`${h.baseUrl}/journeys/${key}`, { headers: { authorization: `Basic ${Buffer.from(`:${h.keys.service}`).toString('base64')}` } });
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(html).toContain('<strong id="stat-entered">6</strong>');
    expect(html).toContain('<strong id="stat-converted">3</strong>');
    expect(html).toMatch(/data-step="hold">[\s\S]*?<text [^>]*class="count">6<\/text>/);
    const challenge = await fetch(`${h.baseUrl}/journeys/${key}`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain('Basic');
  });

  it('computes Wilson intervals', () => {
    expect(wilson(0, 0)).toEqual([0, 0]);
    const [lo, hi] = wilson(50, 100);
    expect(lo).toBeCloseTo(0.4038, 3);
    expect(hi).toBeCloseTo(0.5962, 3);
  });
});

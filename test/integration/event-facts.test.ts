import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/**
 * Events reach running enrolments by id and name only: goal, exit and wait_for_event conditions
 * over the event's properties and the contact's fields are decided by an activity that reads
 * them in PostgreSQL, so the Temporal history of an enrolment holds none of them.
 */
describe('events delivered by id', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const send = (contactId: string, name: string, properties: Record<string, unknown>) =>
    h.api('POST', '/v1/events', { contactId, name, properties });
  const currentStep = async (id: string) => (await h.api('GET', `/v1/enrolments/${id}`)).body.currentStep as string | null;

  /** Every string in the run's history, payloads decoded (JSON, base64-encoded in `data`). */
  async function historyText(workflowId: string): Promise<string> {
    const history = await h.client.workflow.getHandle(workflowId).fetchHistory();
    return JSON.stringify(history, (key, value: unknown) => {
      if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
      return key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value;
    });
  }

  it('decides conditions over properties and contact fields, and keeps both out of the history', async () => {
    const key = await h.publish({
      goal: { event: 'purchased', condition: { all: [{ field: 'event.properties.plan', op: 'eq', value: 'pro' }, { field: 'contact.attributes.vip', op: 'eq', value: true }] } },
      exits: [{ event: 'churned', condition: { field: 'event.properties.reason', op: 'eq', value: 'price' }, reason: 'too expensive' }],
      steps: [
        { id: 'demo', type: 'wait_for_event', event: 'demo_booked', condition: { field: 'event.properties.slot', op: 'eq', value: 'morning' }, timeout: '1h', next: 'after', onTimeout: 'after' },
        { id: 'after', type: 'wait', duration: '1h' },
      ],
    });
    const email = uniqueEmail('ada');
    const company = `Ada Industries ${Date.now()}`;
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, {
      contact: { email, firstName: 'Adelheid', company, attributes: { vip: false, nickname: 'Addy-3456' } },
    });
    expect(enrolled.status).toBe(201);
    const { id, workflowId, contactId } = enrolled.body as { id: string; workflowId: string; contactId: string };
    await eventually(async () => (await currentStep(id)) === 'demo');

    // A demo in the evening does not match the step's condition: it waits on.
    expect((await send(contactId, 'demo_booked', { slot: 'evening-slot-1234' })).body.delivered).toBe(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await currentStep(id)).toBe('demo');
    await send(contactId, 'demo_booked', { slot: 'morning' });
    await eventually(async () => (await currentStep(id)) === 'after');

    // Neither a churn for another reason, a purchase of another plan, nor a pro purchase by a
    // contact who is no VIP (yet) ends it; once the contact is a VIP, a pro purchase converts it.
    await send(contactId, 'churned', { reason: 'moved-away-5678' });
    await send(contactId, 'purchased', { plan: 'basic-plan-9012' });
    await send(contactId, 'purchased', { plan: 'pro' });
    await new Promise((r) => setTimeout(r, 1500));
    expect((await h.api('GET', `/v1/enrolments/${id}`)).body.status).toBe('running');
    expect((await h.api('PATCH', `/v1/contacts/${contactId}`, { attributes: { vip: true } })).status).toBe(200);
    await send(contactId, 'purchased', { plan: 'pro' });
    expect(await h.result(workflowId)).toMatchObject({ status: 'converted', reason: 'goal event "purchased"' });

    const text = await historyText(workflowId);
    expect(text).toContain('demo_booked');
    for (const personal of [email, 'Adelheid', company, 'Addy-3456', 'evening-slot-1234', 'moved-away-5678', 'basic-plan-9012']) expect(text).not.toContain(personal);
  });
});

import { eq } from 'drizzle-orm';
import { auditRecords } from '../../db/schema';
import { startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';

describe('notify (signed webhooks) and assign_owner (round-robin)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('delivers a signed, templated webhook once per step despite a forced retry', async () => {
    const receiver = await startWebhookReceiver(TEST_SECRETS.webhook, [503]);
    const key = await h.publish({ steps: [{
      id: 'alert', type: 'notify', url: `${receiver.url}/sales`,
      body: { kind: 'hot_lead', who: '{{ contact.firstName }} <{{ contact.email }}>', journey: '{{ journey.key }}', score: 90 },
    }] });
    const email = uniqueEmail('lead');
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email, firstName: 'Ada' } });
    await h.result(e.body.workflowId);
    expect(receiver.received).toHaveLength(2);
    expect(receiver.delivered()).toHaveLength(1);
    const [first, second] = receiver.received;
    expect(second!.signatureValid).toBe(true);
    expect(second!.json).toEqual({ kind: 'hot_lead', who: `Ada <${email}>`, journey: key, score: 90 });
    expect(second!.headers['idempotency-key']).toBe(first!.headers['idempotency-key']);
    expect(second!.headers['idempotency-key']).toBe(`${e.body.workflowId}:alert:1`);
    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, e.body.id));
    expect(audit.find((a) => a.stepId === 'alert')).toMatchObject({ action: 'webhook.delivered', details: expect.objectContaining({ responseStatus: 200 }) });
    await receiver.close();
  });

  it('does not retry a 4xx, and sends a Slack-compatible body', async () => {
    const receiver = await startWebhookReceiver(TEST_SECRETS.webhook, [400]);
    const key = await h.publish({ steps: [{ id: 'slack', type: 'notify', url: receiver.url, format: 'slack', text: 'New lead: {{ contact.email }}' }] });
    const email = uniqueEmail('slack');
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } });
    const result = await h.result(e.body.workflowId);
    expect(result.path[0]).toMatchObject({ stepId: 'slack', outcome: 'rejected' });
    expect(receiver.received).toHaveLength(1);
    expect(receiver.received[0]!.json).toEqual({ text: `New lead: ${email}` });
    await receiver.close();
  });

  it('round-robin stays fair when 100 enrolments assign at once', async () => {
    const pool = ['ana@sales.test', 'ben@sales.test', 'chloe@sales.test', 'dev@sales.test'];
    const key = await h.publish({ steps: [{ id: 'owner', type: 'assign_owner', pool, poolKey: uniqueKey('pool') }] });
    const enrolled = await Promise.all(Array.from({ length: 100 }, () =>
      h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('rr') } })));
    await Promise.all(enrolled.map((e) => h.result(e.body.workflowId)));
    const owners = await Promise.all(enrolled.map(async (e) => (await h.api('GET', `/v1/contacts/${e.body.contactId}`)).body.owner));
    const counts = Object.fromEntries(pool.map((o) => [o, owners.filter((x) => x === o).length]));
    expect(counts).toEqual({ 'ana@sales.test': 25, 'ben@sales.test': 25, 'chloe@sales.test': 25, 'dev@sales.test': 25 });
  });

  it('keeps an existing owner unless told otherwise', async () => {
    const key = await h.publish({ steps: [{ id: 'owner', type: 'assign_owner', pool: ['x@sales.test'] }] });
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('owned'), owner: 'kept@sales.test' } });
    const result = await h.result(e.body.workflowId);
    expect(result.path[0].outcome).toBe('already_owned');
    expect((await h.api('GET', `/v1/contacts/${e.body.contactId}`)).body.owner).toBe('kept@sales.test');
  });
});

import { eq } from 'drizzle-orm';
import { enrolments, outgoingEmails } from '../../db/schema';
import { startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

async function workflowIds(h: Harness, query: string): Promise<string[]> {
  const ids: string[] = [];
  for await (const wf of h.client.workflow.list({ query })) ids.push(wf.workflowId);
  return ids;
}

describe('enrolling is idempotent', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function publishedJourney(reentry: 'once' | 'always' = 'once') {
    const key = uniqueKey('idem');
    await h.api('POST', '/v1/journeys', {
      key, name: 'Idempotent',
      definition: {
        entry: { reentry },
        steps: [
          { id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hello {{ contact.email }}', next: 'rest' },
          { id: 'rest', type: 'wait', duration: '1s' },
        ],
      },
    });
    expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(201);
    return key;
  }

  it('the same request twice (and at once) returns one enrolment, one workflow and one email', async () => {
    const key = await publishedJourney();
    const email = uniqueEmail('twice');
    const contact = await h.api('POST', '/v1/contacts', { email });

    const first = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
    const again = await Promise.all([1, 2, 3].map(() => h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id })));
    expect(first.status).toBe(201);
    for (const r of again) {
      expect(r.status).toBe(200);
      expect(r.body.id).toBe(first.body.id);
      expect(r.body.workflowId).toBe(first.body.workflowId);
    }
    await h.client.workflow.getHandle(first.body.workflowId).result();
    // After the run ended, enrolling again still starts nothing (re-entry "once").
    const after = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } });
    expect(after.status).toBe(200);
    expect(after.body.id).toBe(first.body.id);

    const rows = await h.database.db.select().from(enrolments).where(eq(enrolments.contactId, contact.body.id));
    expect(rows).toHaveLength(1);
    expect(await workflowIds(h, `JourneyKey = '${key}'`)).toEqual([first.body.workflowId]);
    expect(h.smtp.to(email)).toHaveLength(1);
    const ledger = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.contactId, contact.body.id));
    expect(ledger).toHaveLength(1);
  });

  it('an idempotency key returns the same enrolment even where re-entry is "always"', async () => {
    const key = await publishedJourney('always');
    const email = uniqueEmail('keyed');
    const a = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } }, { 'Idempotency-Key': 'order-42' });
    const b = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } }, { 'Idempotency-Key': 'order-42' });
    expect([a.status, b.status]).toEqual([201, 200]);
    expect(b.body.id).toBe(a.body.id);
    // A different key under "always" is a new enrolment with its own numbered workflow id.
    const c = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email }, idempotencyKey: 'order-43' });
    expect(c.status).toBe(201);
    expect(c.body.workflowId).toBe(`journey:${key}:${a.body.contactId}:2`);
    await Promise.all([a, c].map((r) => h.client.workflow.getHandle(r.body.workflowId).result()));
    expect(h.smtp.to(email)).toHaveLength(2);
  });
});

describe('bulk enrolment', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('enrols many at once, idempotently, answering each item in order', async () => {
    const key = await h.publish({ steps: [{ id: 'tag', type: 'update_contact', addTags: ['bulk'] }] });
    const items = Array.from({ length: 200 }, (_, i) => ({ contact: { email: uniqueEmail(`bulk${i}`) }, idempotencyKey: `import:${i}` }));
    items.push({ contactId: '00000000-0000-4000-8000-000000000000' } as never);
    const first = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ created: 200, existing: 0, failed: 1 });
    expect(first.body.results[200]).toMatchObject({ index: 200, status: 'error', error: { code: 'contact_not_found' } });
    const again = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: items.slice(0, 200) });
    expect(again.body).toMatchObject({ created: 0, existing: 200, failed: 0 });
    expect(again.body.results.map((r: { enrolment: { id: string } }) => r.enrolment.id)).toEqual(first.body.results.slice(0, 200).map((r: { enrolment: { id: string } }) => r.enrolment.id));
    await Promise.all(first.body.results.slice(0, 200).map((r: { enrolment: { workflowId: string } }) => h.result(r.enrolment.workflowId)));
    expect((await h.api('POST', `/v1/journeys/no-such/enrolments/bulk`, { items: items.slice(0, 1) })).status).toBe(404);
  });
});

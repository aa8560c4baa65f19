import { eq } from 'drizzle-orm';
import { enrolments, outgoingEmails } from '../../db/schema';
import { openDatabase } from '../../db/client';
import { publishJourney, setJourneyStatus, updateDraft } from '../../services/journeys/journeys';
import { startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { testEnvironment } from '../support/env';

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

  it('a journey published again, paused or resumed by another process is read again: enrolments go to the new version, are refused, are taken', async () => {
    const key = await h.publish({ steps: [{ id: 'rest', type: 'wait', duration: '1h' }] });
    expect((await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('v1') } })).body.journeyVersion).toBe(1);
    // Another process (its own database handle) publishes version 2: this API still has version 1 as recently read.
    const other = await openDatabase({ url: testEnvironment().databaseUrl, poolSize: 1 });
    try {
      await updateDraft(other.db, key, { definition: { steps: [{ id: 'rest', type: 'wait', duration: '2h' }] } });
      await publishJourney(other.db, key);
      const next = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('v2') } });
      expect(next.status).toBe(201);
      expect(next.body.journeyVersion).toBe(2);
      await setJourneyStatus(other.db, key, 'paused');
      const refused = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: [{ contact: { email: uniqueEmail('paused') } }] });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe('journey_paused');
      // Resumed there: taken here at once (a refusal is never answered from a kept copy).
      await setJourneyStatus(other.db, key, 'active');
      expect((await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('resumed') } })).status).toBe(201);
    } finally {
      await other.close();
    }
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

  it('decides items in order as one-by-one enrolment would: repeats of a contact or key, re-entry, races and a pause', async () => {
    const steps = [{ id: 'rest', type: 'wait', duration: '1s' }];
    const once = await h.publish({ steps });
    const always = await h.publish({ entry: { reentry: 'always' }, steps });
    const email = uniqueEmail('repeat');
    const items = [{ contact: { email } }, { contact: { email } }, { contact: { email: uniqueEmail('keyed') }, idempotencyKey: 'same' }, { contact: { email: uniqueEmail('other') }, idempotencyKey: 'same' }];
    const first = await h.api('POST', `/v1/journeys/${once}/enrolments/bulk`, { items });
    expect(first.body).toMatchObject({ created: 2, existing: 2, failed: 0 });
    const ids = first.body.results.map((r: { enrolment: { id: string } }) => r.enrolment.id);
    // The same contact twice: once. The same key twice: the first item's enrolment.
    expect([ids[1], ids[3]]).toEqual([ids[0], ids[2]]);
    // Re-entry "always": the same contact twice in one request enrols it twice, as sequences 1 and 2.
    const twice = await h.api('POST', `/v1/journeys/${always}/enrolments/bulk`, { items: items.slice(0, 2) });
    expect(twice.body).toMatchObject({ created: 2, existing: 0 });
    expect(twice.body.results.map((r: { enrolment: { workflowId: string } }) => r.enrolment.workflowId)).toEqual([
      `journey:${always}:${twice.body.results[0].enrolment.contactId}`, `journey:${always}:${twice.body.results[0].enrolment.contactId}:2`,
    ]);
    // Two identical requests at once: each key enrolled once, both answered with the same enrolments.
    const raced = Array.from({ length: 30 }, (_, i) => ({ contact: { email: uniqueEmail(`race${i}`) }, idempotencyKey: `race:${i}` }));
    const [a, b] = await Promise.all([0, 1].map(() => h.api('POST', `/v1/journeys/${once}/enrolments/bulk`, { items: raced })));
    expect(a!.body.created + b!.body.created).toBe(30);
    expect(a!.body.results.map((r: { enrolment: { id: string } }) => r.enrolment.id)).toEqual(b!.body.results.map((r: { enrolment: { id: string } }) => r.enrolment.id));
    // Each enrolment's own chain (other test files share the database, one of them breaks a chain on purpose).
    const chains = await Promise.all(a!.body.results.map(async (r: { enrolment: { id: string } }) => (await h.api('GET', `/v1/audit/verify?chain=${encodeURIComponent(`enrolment:${r.enrolment.id}`)}`)).body.ok));
    expect(chains).toEqual(raced.map(() => true));
    const started = await Promise.all(a!.body.results.map(async (r: { enrolment: { id: string } }) => (await h.api('GET', `/v1/audit?enrolmentId=${r.enrolment.id}`)).body.records.filter((x: { action: string }) => x.action === 'enrolment.started').length));
    expect(started).toEqual(raced.map(() => 1));
    // Paused: repeats still answer with their enrolments, a new contact fails the request.
    await h.api('POST', `/v1/journeys/${once}/pause`);
    expect((await h.api('POST', `/v1/journeys/${once}/enrolments/bulk`, { items: items.slice(0, 1) })).body).toMatchObject({ existing: 1 });
    const paused = await h.api('POST', `/v1/journeys/${once}/enrolments/bulk`, { items: [{ contact: { email: uniqueEmail('late') } }] });
    expect(paused.status).toBe(409);
    expect(paused.body.error.code).toBe('journey_paused');
  });
});

import { and, eq, sql } from 'drizzle-orm';
import { enrolments } from '../../db/schema';
import { decideMemberships } from '../../services/segments/membership';
import { publishedSegment } from '../../services/segments/segments';
import { enrolmentsOf as enrolmentsOfIn, publishSegment } from '../support/segments';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Segments on the real stack: membership on every write path, segment events, exactly-once enrolment. */
describe('segments', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const enrolmentsOf = (journeyKey: string, contactId: string) => enrolmentsOfIn(h, journeyKey, contactId);

  const segment = (condition: unknown) => publishSegment(h, condition);

  async function members(key: string): Promise<string[]> {
    const page = await h.api('GET', `/v1/segments/${key}/contacts?limit=500`);
    expect(page.status).toBe(200);
    return page.body.contacts.map((c: { id: string }) => c.id);
  }

  it('keeps membership on every write path', async () => {
    const tag = uniqueKey('vip');
    const key = await segment({ all: [{ tag }, { field: 'contact.score', op: 'gte', value: 50 }] });
    const email = uniqueEmail('api');
    // API create, update (leaving), upsert (entering again).
    const created = await h.api('POST', '/v1/contacts', { email, tags: [tag], score: 60 });
    expect(await members(key)).toEqual([created.body.id]);
    await h.api('PATCH', `/v1/contacts/${created.body.id}`, { scoreDelta: -20 });
    expect(await members(key)).toEqual([]);
    await h.api('POST', '/v1/contacts', { email, score: 70 });
    expect(await members(key)).toEqual([created.body.id]);

    // An event with its contact inline; an inline enrolment.
    const byEvent = await h.api('POST', '/v1/events', { contact: { email: uniqueEmail('event'), tags: [tag], score: 55 }, name: 'visited' });
    const journey = await h.publish({ steps: [{ id: 'done', type: 'exit', reason: 'done' }] });
    const byEnrolment = await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contact: { email: uniqueEmail('inline'), tags: [tag], score: 90 } });
    expect(byEnrolment.status).toBe(201);
    // update_contact and assign_owner steps.
    const owner = `${uniqueKey('owner')}@example.test`;
    const ownerSegment = await segment({ field: 'contact.owner', op: 'eq', value: owner });
    const steps = await h.publish({ steps: [
      { id: 'bump', type: 'update_contact', addTags: [tag], scoreDelta: 80, next: 'own' },
      { id: 'own', type: 'assign_owner', pool: [owner] },
    ] });
    const plain = await h.api('POST', '/v1/contacts', { email: uniqueEmail('steps') });
    const run = await h.api('POST', `/v1/journeys/${steps}/enrolments`, { contactId: plain.body.id });
    await h.result(run.body.workflowId);
    expect((await members(key)).sort()).toEqual([created.body.id, byEvent.body.contactId, byEnrolment.body.contactId, plain.body.id].sort());
    expect(await members(ownerSegment)).toEqual([plain.body.id]);

    // Event history: the event itself is the write.
    const visits = await segment({ all: [{ tag }, { did: { event: 'pricing_page_visit', within: '7d', atLeast: 2 } }] });
    await h.api('POST', '/v1/events', { contactId: plain.body.id, name: 'pricing_page_visit' });
    expect(await members(visits)).toEqual([]);
    await h.api('POST', '/v1/events', { contactId: plain.body.id, name: 'pricing_page_visit' });
    expect(await members(visits)).toEqual([plain.body.id]);
  });

  it('enrols once on entering, through retried and concurrent requests, and exits on leaving', async () => {
    const tag = uniqueKey('trial');
    const key = await segment({ tag });
    // `always` would let the contact in on every entry: only the change's key keeps a retry from enrolling twice.
    const journey = await h.publish({
      trigger: { type: 'segment', segment: key }, entry: { reentry: 'always' }, exits: [{ segmentLeft: key }],
      steps: [{ id: 'hold', type: 'wait', duration: '1h' }],
    });
    const onEvent = await h.publish({
      trigger: { type: 'event', event: 'segment.entered', condition: { field: 'event.properties.segment', op: 'eq', value: key } },
      entry: { reentry: 'always' }, steps: [{ id: 'done', type: 'exit', reason: 'seen' }],
    });
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('trial') });
    const id = contact.body.id as string;
    const enter = () => h.api('PATCH', `/v1/contacts/${id}`, { addTags: [tag] });
    await Promise.all([enter(), enter(), enter()]);
    await enter();
    expect(await enrolmentsOf(journey, id)).toHaveLength(1);
    expect(await enrolmentsOf(onEvent, id)).toHaveLength(1);

    // Leaving ends the enrolment through its segmentLeft exit.
    const [running] = await enrolmentsOf(journey, id);
    await h.api('PATCH', `/v1/contacts/${id}`, { removeTags: [tag] });
    await expect(h.result(running!.workflowId)).resolves.toMatchObject({ status: 'exited', reason: `left segment "${key}"` });

    // A write whose membership change went in but whose events did not (a crash between the two):
    // the retried request sends the recorded change, once.
    await h.database.db.execute(sql`update contacts set tags = array[${tag}] where id = ${id}`);
    const changes = await decideMemberships(h.database.db, [id], [await publishedSegment(h.database.db, key)]);
    expect(changes.map((c) => c.kind)).toEqual(['entered']);
    expect(await enrolmentsOf(journey, id)).toHaveLength(1);
    await Promise.all([enter(), enter()]);
    expect(await enrolmentsOf(journey, id)).toHaveLength(2);
    await enter();
    expect(await enrolmentsOf(journey, id)).toHaveLength(2);
  });

  it('wakes a wait for the segment event', async () => {
    const tag = uniqueKey('wait');
    const key = await segment({ tag });
    const journey = await h.publish({ steps: [
      { id: 'until_in', type: 'wait_for_event', event: 'segment.entered', condition: { field: 'event.properties.segment', op: 'eq', value: key }, timeout: '1h', next: 'in', onTimeout: 'late' },
      { id: 'in', type: 'exit', reason: 'entered' },
      { id: 'late', type: 'exit', reason: 'late' },
    ] });
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('wait') });
    const run = await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contactId: contact.body.id });
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${run.body.id}`)).body.currentStep === 'until_in');
    await h.api('PATCH', `/v1/contacts/${contact.body.id}`, { addTags: [tag] });
    await expect(h.result(run.body.workflowId)).resolves.toMatchObject({ status: 'exited', reason: 'entered' });
  });

  it('previews a condition and pages through members, refusing bad input by field', async () => {
    const tag = uniqueKey('page');
    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await h.api('POST', '/v1/contacts', { email: uniqueEmail('page'), tags: [tag] })).body.id);
    const preview = await h.api('POST', '/v1/segments/preview', { condition: { tag }, sampleSize: 2 });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ count: 3, complete: true });
    expect(preview.body.sample).toHaveLength(2);

    const key = await segment({ tag });
    const first = await h.api('GET', `/v1/segments/${key}/contacts?limit=2`);
    expect(first.body).toMatchObject({ count: 3 });
    expect(first.body.contacts).toHaveLength(2);
    const second = await h.api('GET', `/v1/segments/${key}/contacts?limit=2&after=${first.body.nextCursor}`);
    expect(second.body).toMatchObject({ count: 3, nextCursor: null });
    expect([...first.body.contacts, ...second.body.contacts].map((c: { id: string }) => c.id)).toEqual([...ids].sort());

    const again = await h.api('POST', `/v1/segments/${key}/publish`);
    expect(again.body).toMatchObject({ created: false, version: 1 });
    const taken = await h.api('POST', '/v1/segments', { key, name: 'again', condition: { tag } });
    expect([taken.status, taken.body.error.details.field]).toEqual([409, 'key']);

    let deep: unknown = { tag };
    for (let i = 0; i < 11; i += 1) deep = { not: deep };
    const refusals: Array<[string, string, unknown, string]> = [
      ['POST', '/v1/segments/preview', { condition: { field: 'event.name', op: 'eq', value: 'x' } }, 'body.condition'],
      ['POST', '/v1/segments/preview', { condition: { emails: { action: 'opened', atLeast: 9, ofLast: 5 } } }, 'body.condition'],
      ['POST', '/v1/segments/preview', { condition: deep }, 'body.condition'],
      ['POST', '/v1/segments/preview', { condition: { tag }, sampleSize: 10_000 }, 'body.sampleSize'],
      ['POST', '/v1/segments', { key: 'Not A Key', name: 'x', condition: { tag } }, 'body.key'],
      ['GET', `/v1/segments/${key}/contacts?limit=0`, undefined, 'querystring.limit'],
      ['GET', `/v1/segments/${key}/contacts?after=not-a-uuid`, undefined, 'querystring.after'],
      ['GET', '/v1/segments/BAD%20KEY/contacts', undefined, 'params.key'],
    ];
    for (const [method, path, body, field] of refusals) {
      const res = await h.api(method, path, body);
      expect([path, res.status]).toEqual([path, 400]);
      expect(res.body.error.details.problems[0].path).toMatch(new RegExp(`^${field.replace('.', '\\.')}`));
    }
    expect((await h.api('GET', '/v1/segments/no-such-segment/contacts')).status).toBe(404);
    const journey = uniqueKey('journey');
    await h.api('POST', '/v1/journeys', { key: journey, name: journey, definition: {
      trigger: { type: 'segment', segment: 'no-such-segment' }, exits: [{ segmentLeft: key }, { segmentLeft: 'gone' }], steps: [{ id: 'done', type: 'exit', reason: 'x' }],
    } });
    const unknown = await h.api('POST', `/v1/journeys/${journey}/publish`);
    expect(unknown.status).toBe(422);
    expect(unknown.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['definition.trigger.segment', 'definition.exits[1].segmentLeft']);
    expect((await h.api('POST', '/v1/segments/no-such-segment/publish')).status).toBe(404);
    expect((await h.api('POST', '/v1/segments', { key: uniqueKey('seg'), name: 'x', condition: { tag } }, { authorization: `Bearer ${h.keys.service}` })).status).toBe(403);
  });
});

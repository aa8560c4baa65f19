import { and, eq } from 'drizzle-orm';
import { enrolments } from '../../db/schema';
import { scheduleIdFor } from '../../services/journeys/schedules';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

const hello = { id: 'hello', type: 'send_email', subject: 'Hello {{ contact.firstName }}', text: 'Hi' };

/** Every trigger kind and re-entry rule, on the real server and database. */
describe('triggers and entry rules', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const enrolmentsOf = (journeyKey: string, contactId: string) => h.database.db.select().from(enrolments)
    .where(and(eq(enrolments.journeyKey, journeyKey), eq(enrolments.contactId, contactId)));

  it('an event trigger enrols when its condition holds, once per event id', async () => {
    const key = await h.publish({
      trigger: { type: 'event', event: 'ebook_downloaded', condition: { field: 'event.properties.topic', op: 'eq', value: 'pricing' } },
      steps: [hello],
    });
    const email = uniqueEmail('ebook');
    const other = await h.api('POST', '/v1/events', { contact: { email }, name: 'ebook_downloaded', properties: { topic: 'hiring' } });
    expect(other.status).toBe(202);
    expect(other.body.enrolled).toEqual([]);
    const first = await h.api('POST', '/v1/events', { id: `dl-${key}`, contact: { email }, name: 'ebook_downloaded', properties: { topic: 'pricing' } });
    expect(first.body.enrolled).toHaveLength(1);
    const repeat = await h.api('POST', '/v1/events', { id: `dl-${key}`, contact: { email }, name: 'ebook_downloaded', properties: { topic: 'pricing' } });
    expect(repeat.status).toBe(200);
    expect(repeat.body).toMatchObject({ duplicate: true, enrolled: [], id: first.body.id });
    const rows = await enrolmentsOf(key, first.body.contactId);
    expect(rows).toHaveLength(1);
    await h.result(rows[0]!.workflowId);
    expect(h.smtp.to(email)).toHaveLength(1);
  });

  it('a segment trigger enrols contacts that newly match, through the API and through a journey step', async () => {
    const tag = uniqueKey('vip');
    const key = await h.publish({ trigger: { type: 'segment', condition: { all: [{ tag }, { field: 'contact.score', op: 'gte', value: 50 }] } }, steps: [hello] });
    // Created matching: enrolled.
    const created = await h.api('POST', '/v1/contacts', { email: uniqueEmail('seg'), tags: [tag], score: 60 });
    expect(await enrolmentsOf(key, created.body.id)).toHaveLength(1);
    // Created not matching, then changed to match: enrolled on the change.
    const later = await h.api('POST', '/v1/contacts', { email: uniqueEmail('seg'), tags: [tag], score: 10 });
    expect(await enrolmentsOf(key, later.body.id)).toHaveLength(0);
    await h.api('PATCH', `/v1/contacts/${later.body.id}`, { scoreDelta: 45 });
    expect(await enrolmentsOf(key, later.body.id)).toHaveLength(1);
    // Already matching and changed again: not "newly" matching, nothing new.
    await h.api('PATCH', `/v1/contacts/${later.body.id}`, { scoreDelta: 1 });
    expect(await enrolmentsOf(key, later.body.id)).toHaveLength(1);

    // An update_contact step of another journey makes a contact match: it enters the segment journey.
    const scorer = await h.publish({ steps: [{ id: 'bump', type: 'update_contact', addTags: [tag], scoreDelta: 80 }] });
    const plain = await h.api('POST', '/v1/contacts', { email: uniqueEmail('seg') });
    const run = await h.api('POST', `/v1/journeys/${scorer}/enrolments`, { contactId: plain.body.id });
    await h.result(run.body.workflowId);
    expect(await enrolmentsOf(key, plain.body.id)).toHaveLength(1);
  });

  it('a schedule trigger runs a Temporal Schedule that enrols its segment', async () => {
    const tag = uniqueKey('weekly');
    const key = await h.publish({ trigger: { type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris', condition: { tag } }, steps: [hello] });
    const member = await h.api('POST', '/v1/contacts', { email: uniqueEmail('sched'), tags: [tag] });
    const outsider = await h.api('POST', '/v1/contacts', { email: uniqueEmail('sched') });
    const schedule = h.client.schedule.getHandle(scheduleIdFor(key));
    const described = await schedule.describe();
    expect(described.spec.calendars?.length).toBeGreaterThan(0);
    expect(described.spec.timezone).toBe('Europe/Paris');
    expect(described.state.paused).toBe(false);
    await schedule.trigger();
    await eventually(async () => (await enrolmentsOf(key, member.body.id)).length === 1);
    expect(await enrolmentsOf(key, outsider.body.id)).toHaveLength(0);
    // Pausing the journey pauses its schedule.
    await h.api('POST', `/v1/journeys/${key}/pause`);
    expect((await schedule.describe()).state.paused).toBe(true);
  });

  it('re-entry "after_exit" lets a contact in again only once the last enrolment ended; cooldown holds it back', async () => {
    const key = await h.publish({ entry: { reentry: 'after_exit' }, steps: [{ id: 'nap', type: 'wait', duration: '1s' }] });
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('again') });
    const first = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
    const during = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
    expect([first.status, during.status, during.body.id]).toEqual([201, 200, first.body.id]);
    await h.result(first.body.workflowId);
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${first.body.id}`)).body.status === 'completed');
    const second = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
    expect(second.status).toBe(201);
    expect(second.body.workflowId).toBe(`journey:${key}:${contact.body.id}:2`);

    const cooled = await h.publish({ entry: { reentry: 'always', cooldown: '1h' }, steps: [hello] });
    const a = await h.api('POST', `/v1/journeys/${cooled}/enrolments`, { contactId: contact.body.id, idempotencyKey: 'a' });
    const b = await h.api('POST', `/v1/journeys/${cooled}/enrolments`, { contactId: contact.body.id, idempotencyKey: 'b' });
    expect([a.status, b.status, b.body.id]).toEqual([201, 200, a.body.id]);
  });
});

import { startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Callers' mistakes get a 4xx JSON error naming the problem; nothing is a 500. */
describe('bad input', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const oneEmail = { steps: [{ id: 'hello', type: 'send_email', subject: 'Hi', text: 'Hello' }] };

  function expectError(r: { status: number; body: any }, status: number, code: string) {
    expect(r.status).toBe(status);
    expect(r.body.error.code).toBe(code);
    expect(typeof r.body.error.message).toBe('string');
  }

  it('unknown journey → 404 naming the key', async () => {
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail() });
    const r = await h.api('POST', '/v1/journeys/no-such-journey/enrolments', { contactId: contact.body.id });
    expectError(r, 404, 'journey_not_found');
    expect(r.body.error.message).toContain('no-such-journey');
    expectError(await h.api('GET', '/v1/journeys/no-such-journey'), 404, 'journey_not_found');
  });

  it('unknown contact → 404 naming contactId', async () => {
    const key = uniqueKey();
    await h.api('POST', '/v1/journeys', { key, name: 'J', definition: oneEmail });
    await h.api('POST', `/v1/journeys/${key}/publish`);
    const missing = '00000000-0000-4000-8000-000000000000';
    const r = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: missing });
    expectError(r, 404, 'contact_not_found');
    expect(r.body.error.details).toEqual({ field: 'contactId', value: missing });
    expectError(await h.api('GET', `/v1/contacts/${missing}`), 404, 'contact_not_found');
    expectError(await h.api('GET', '/v1/enrolments/not-a-uuid'), 400, 'invalid_request');
  });

  it('malformed bodies → 400 naming the field', async () => {
    expectError(await h.api('POST', '/v1/contacts', '{"email": '), 400, 'invalid_json_body');
    const badEmail = await h.api('POST', '/v1/contacts', { email: 'not-an-email' });
    expectError(badEmail, 400, 'invalid_request');
    expect(badEmail.body.error.details.problems[0].path).toBe('body.email');
    const noIdentity = await h.api('POST', '/v1/contacts', { firstName: 'Nobody' });
    expectError(noIdentity, 400, 'invalid_request');
    expect(noIdentity.body.error.message).toContain('email or an externalId');
    const badZone = await h.api('POST', '/v1/contacts', { email: uniqueEmail(), timezone: 'Mars/Olympus' });
    expect(badZone.body.error.details.problems[0].path).toBe('body.timezone');
    const wrongType = await h.api('POST', '/v1/journeys', { key: 'Bad Key!', name: 'x', definition: {} });
    expectError(wrongType, 400, 'invalid_request');
    expect(wrongType.body.error.details.problems[0].path).toBe('body.key');
    const both = await h.api('POST', `/v1/journeys/x/enrolments`, {});
    expect(both.body.error.details.problems[0].path).toBe('body.contactId');
    expectError(await h.api('POST', '/v1/nowhere', {}), 404, 'route_not_found');
    expectError(await h.api('POST', '/v1/contacts', 'x'.repeat(2 * 1024 * 1024)), 413, 'body_too_large');
  });

  it('an invalid definition cannot be published: 422 names the step and field', async () => {
    const key = uniqueKey();
    const created = await h.api('POST', '/v1/journeys', {
      key, name: 'Broken',
      definition: {
        steps: [
          { id: 'hello', type: 'send_email', subject: 'Hi {{ contact.firstName', text: 'x', next: 'missing' },
          { id: 'nap', type: 'wait', duration: 'soon' },
        ],
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.draftProblems.length).toBeGreaterThan(0);
    const r = await h.api('POST', `/v1/journeys/${key}/publish`);
    expectError(r, 422, 'invalid_definition');
    const problems: Array<{ path: string; stepId?: string; message: string }> = r.body.error.details.problems;
    expect(problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'definition.steps[0].subject', stepId: 'hello' }),
      expect.objectContaining({ path: 'definition.steps[0].next', stepId: 'hello', message: expect.stringContaining('"missing" does not exist') }),
      expect.objectContaining({ path: 'definition.steps[1].duration', stepId: 'nap' }),
    ]));
    // Nothing was published; enrolling is refused with a clear reason.
    const enrol = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
    expectError(enrol, 409, 'journey_not_published');
  });

  it('a paused journey takes no new enrolments; resumed, it does', async () => {
    const key = uniqueKey();
    await h.api('POST', '/v1/journeys', { key, name: 'Pausable', definition: oneEmail });
    await h.api('POST', `/v1/journeys/${key}/publish`);
    expect((await h.api('POST', `/v1/journeys/${key}/pause`)).body.status).toBe('paused');
    expectError(await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } }), 409, 'journey_paused');
    expect((await h.api('POST', `/v1/journeys/${key}/resume`)).body.status).toBe('active');
    expect((await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } })).status).toBe(201);
  });

  it('a duplicate journey key → 409; an email owned by another contact → 409 naming email', async () => {
    const key = uniqueKey();
    expect((await h.api('POST', '/v1/journeys', { key, name: 'One', definition: oneEmail })).status).toBe(201);
    expectError(await h.api('POST', '/v1/journeys', { key, name: 'Two', definition: oneEmail }), 409, 'journey_exists');
    const email = uniqueEmail();
    await h.api('POST', '/v1/contacts', { email, externalId: 'crm-1-' + key });
    const clash = await h.api('POST', '/v1/contacts', { email, externalId: 'crm-2-' + key });
    expectError(clash, 409, 'contact_email_taken');
    expect(clash.body.error.details.field).toBe('email');
  });
});

describe('API keys', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('refuses a missing or unknown key (401) and a key without the scope (403)', async () => {
    const none = await h.api('GET', '/v1/journeys', undefined, { authorization: '' });
    expect(none.status).toBe(401);
    expect(none.body.error.code).toBe('unauthenticated');
    expect((await h.api('GET', '/v1/journeys', undefined, { authorization: 'Bearer nrt_000000000000_aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' })).status).toBe(401);
    const service = { authorization: `Bearer ${h.keys.service}` };
    const publish = await h.api('POST', '/v1/journeys', { key: uniqueKey(), name: 'x', definition: {} }, service);
    expect(publish.status).toBe(403);
    expect(publish.body.error).toMatchObject({ code: 'forbidden', details: { required: ['admin'], granted: ['service'] } });
    expect((await h.api('POST', '/v1/contacts', { email: uniqueEmail() }, service)).status).toBe(201);
    expect((await h.api('GET', '/healthz', undefined, { authorization: '' })).status).toBe(200);
  });

  it('creates keys shown once, stores only their hash, and revokes them at once', async () => {
    const created = await h.api('POST', '/v1/api-keys', { name: 'crm sync', scopes: ['service'] });
    expect(created.status).toBe(201);
    expect(created.body.key).toMatch(/^nrt_[0-9a-f]{12}_/);
    const list = await h.api('GET', '/v1/api-keys');
    expect(JSON.stringify(list.body)).not.toContain(created.body.key);
    const auth = { authorization: `Bearer ${created.body.key}` };
    expect((await h.api('GET', `/v1/contacts?limit=1`, undefined, auth)).status).toBe(200);
    await h.api('POST', `/v1/api-keys/${created.body.id}/revoke`);
    expect((await h.api('GET', `/v1/contacts?limit=1`, undefined, auth)).status).toBe(401);
    const approverWithoutUser = await h.api('POST', '/v1/api-keys', { name: 'x', scopes: ['approver'] });
    expect(approverWithoutUser.status).toBe(422);
    expect(approverWithoutUser.body.error.details.problems[0].path).toBe('body.userId');
  });
});

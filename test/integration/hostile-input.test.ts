import fc from 'fast-check';
import { startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/**
 * Property tests over every POST, PUT and PATCH route: malformed, oversized and wrongly typed
 * bodies and parameters get 4xx answers, never a 500, and the server stays up.
 */
describe('hostile input', () => {
  let h: Harness;
  let fixture: { key: string; contactId: string; enrolmentId: string };
  beforeAll(async () => {
    h = await startHarness();
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] }, uniqueKey('hostile'));
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('hostile') } });
    fixture = { key, contactId: e.body.contactId, enrolmentId: e.body.id };
  });
  afterAll(async () => { await h?.stop(); });

  const routes = () => [
    ['POST', '/v1/contacts'], ['PATCH', `/v1/contacts/${fixture.contactId}`], ['POST', '/v1/journeys'],
    ['PUT', `/v1/journeys/${fixture.key}/draft`], ['POST', `/v1/journeys/${fixture.key}/enrolments`],
    ['POST', `/v1/journeys/${fixture.key}/enrolments/bulk`], ['POST', `/v1/enrolments/${fixture.enrolmentId}/cancel`],
    ['POST', '/v1/events'], ['POST', '/v1/templates'], ['POST', '/v1/email/feedback'], ['POST', '/v1/users'],
    ['POST', '/v1/api-keys'], ['POST', `/v1/tasks/${fixture.enrolmentId}/complete`], ['POST', `/v1/journeys/${fixture.key}/test-runs`],
  ] as const;

  /** Bodies that look almost right: known field names with wrong types, deep nesting, huge strings. */
  const fieldNames = ['email', 'externalId', 'contactId', 'contact', 'name', 'key', 'definition', 'steps', 'items', 'values', 'decision',
    'properties', 'tags', 'score', 'attributes', 'scopes', 'userId', 'subject', 'text', 'type', 'timezone', 'consents', 'contacts', 'events', 'version'];
  const hostileValue = fc.oneof(
    fc.jsonValue({ maxDepth: 4 }),
    fc.string({ maxLength: 50 }),
    fc.constantFrom('', ' ', '\u0000', '__proto__', '{{ 7 * 7 }}', '{% for %}', "'; drop table contacts; --", 'x'.repeat(100_000), 'é'.repeat(2_000)),
    fc.integer(), fc.double(), fc.constantFrom(null, true, -1, Number.MAX_SAFE_INTEGER, 1e308),
  );
  const hostileBody = fc.oneof(
    fc.dictionary(fc.constantFrom(...fieldNames), hostileValue, { maxKeys: 6 }),
    fc.jsonValue({ maxDepth: 5 }),
    fc.string({ maxLength: 200 }),
  );

  it('POST, PUT and PATCH bodies never get a 500', async () => {
    for (const [method, path] of routes()) {
      await fc.assert(fc.asyncProperty(hostileBody, async (body) => {
        const payload = typeof body === 'string' ? body : JSON.stringify(body);
        const res = await fetch(`${h.baseUrl}${path}`, { method, headers: { 'content-type': 'application/json', authorization: `Bearer ${h.keys.admin}` }, body: payload });
        if (res.status >= 500) throw new Error(`${method} ${path} answered ${res.status} to ${payload.slice(0, 300)}: ${await res.text()}`);
        const answer = (await res.json().catch(() => undefined)) as { error?: { code?: string } } | undefined;
        if (res.status >= 400 && !answer?.error?.code) throw new Error(`${method} ${path}: ${res.status} without an error code`);
      }), { numRuns: 25 });
    }
    expect((await h.api('GET', '/healthz')).status).toBe(200);
  });

  it('hostile path and query parameters get 4xx', async () => {
    const segment = fc.oneof(fc.string({ maxLength: 300 }), fc.constantFrom('..', '%00', '%', '%2e%2e', "' or 1=1", 'a'.repeat(5000)));
    await fc.assert(fc.asyncProperty(segment, segment, async (a, b) => {
      for (const path of [`/v1/contacts/${encodeURIComponent(a)}`, `/v1/journeys/${encodeURIComponent(a)}/stats`, `/v1/enrolments/${encodeURIComponent(a)}`,
        `/v1/contacts?limit=${encodeURIComponent(a)}&after=${encodeURIComponent(b)}`, `/v1/audit?journeyKey=${encodeURIComponent(a)}&limit=${encodeURIComponent(b)}`,
        `/tasks/${encodeURIComponent(a)}?token=${encodeURIComponent(b)}`, `/unsubscribe/${encodeURIComponent(a)}`, `/t/c/${encodeURIComponent(a)}`,
        `/%761/contacts/${encodeURIComponent(a)}`, `/v1/%63ontacts?limit=${encodeURIComponent(a)}`]) {
        const res = await fetch(`${h.baseUrl}${path}`, { headers: { authorization: `Bearer ${h.keys.admin}` } });
        if (res.status >= 500) throw new Error(`GET ${path} answered ${res.status}: ${await res.text()}`);
      }
    }), { numRuns: 30 });
  });

  it('refuses bodies over 1 MiB with 413, and wrong content types with 415', async () => {
    const big = await h.api('POST', '/v1/events', JSON.stringify({ name: 'x', properties: { blob: 'x'.repeat(1_100_000) } }));
    expect(big.status).toBe(413);
    const xml = await fetch(`${h.baseUrl}/v1/contacts`, { method: 'POST', headers: { 'content-type': 'application/xml', authorization: `Bearer ${h.keys.admin}` }, body: '<contact/>' });
    expect(xml.status).toBe(415);
  });
});

describe('rate limits', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ rateLimitPerMinute: 5 }); });
  afterAll(async () => { await h?.stop(); });

  it('answers 429 with Retry-After per key, and other keys are not affected', async () => {
    const statuses: number[] = [];
    let last: { status: number; body: any; headers: Headers } | undefined;
    // Spelled plainly or percent-encoded, it is the same route and the same count.
    for (let i = 0; i < 7; i++) {
      last = await h.api('GET', i % 2 ? '/%761/journeys' : '/v1/journeys', undefined, { authorization: `Bearer ${h.keys.service}` });
      statuses.push(last.status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(last!.body.error.code).toBe('rate_limited');
    expect(Number(last!.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await h.api('GET', '/v1/journeys')).status).toBe(200);
    expect((await h.api('GET', '/healthz', undefined, { authorization: '' })).status).toBe(200);
  });
});

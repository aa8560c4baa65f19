import { appendAudit } from '../../services/audit/records';
import { eq, sql } from 'drizzle-orm';
import type { ApiDeps } from '../../api/deps';
import { openDatabase } from '../../db/client';
import { tasks } from '../../db/schema';
import { testEnvironment } from '../support/env';
import { harnessWithApis } from '../support/extra-api';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Hostile requests against the real stack: definitions that would hang or exhaust a process. */
describe('journey definitions from strangers', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const approval = (pattern: string) => ({
    steps: [{ id: 'review', type: 'approval', title: 'Review', assignee: { role: 'sales' }, fields: [{ name: 'ref', label: 'Reference', type: 'text' }, { name: 'code', label: 'Code', type: 'text', pattern }] }],
  });

  it('refuses a form pattern RE2 cannot run safely at publish, naming the field', async () => {
    for (const pattern of ['^(a+)\\1$', '^(?=.*\\d).+$', '(?<!x)y']) {
      const key = uniqueKey('pattern');
      expect((await h.api('POST', '/v1/journeys', { key, name: key, definition: approval(pattern) })).status).toBe(201);
      const published = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(published.status).toBe(422);
      expect(published.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].fields[1].pattern', stepId: 'review' })]);
    }
  });

  it('matches a pattern that backtracks in JavaScript in linear time, in the API and in the workflow', async () => {
    const role = uniqueKey('reviewers');
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [role] });
    const auth = { authorization: `Bearer ${(await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id })).body.key}` };
    const key = await h.publish({ steps: [
      { id: 'review', type: 'approval', title: 'Review', assignee: { role }, fields: [{ name: 'code', label: 'Code', type: 'text', pattern: '^(a+)+$' }], onApprove: 'done' },
      { id: 'done', type: 'update_contact', addTags: ['reviewed'] },
    ] });
    const enrolment = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } })).body;
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolment.id)))[0]);
    const started = Date.now();
    const evil = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { code: `${'a'.repeat(5_000)}!` } }, auth);
    expect(evil.status).toBe(422);
    expect(Date.now() - started).toBeLessThan(2_000);
    // A matching value passes the API's check and the workflow's update validator (re2js in the sandbox).
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { code: 'aaaa' } }, auth)).status).toBe(200);
    expect((await h.result(enrolment.workflowId)).path.map((p: { stepId: string }) => p.stepId)).toEqual(['review', 'done']);
  });

  it('caps condition depth at publish and the size of a definition when it is stored', async () => {
    let condition: unknown = { field: 'contact.score', op: 'gte', value: 1 };
    for (let i = 0; i < 11; i++) condition = { not: condition };
    const key = uniqueKey('deep');
    const definition = { steps: [{ id: 'b', type: 'branch', cases: [{ condition, next: 'w' }] }, { id: 'w', type: 'wait', duration: '1d' }] };
    expect((await h.api('POST', '/v1/journeys', { key, name: key, definition })).body.draftProblems).toEqual([expect.objectContaining({ path: 'definition.steps[0].cases[0].condition' })]);
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(422);
    expect(published.body.error.details.problems[0].message).toMatch(/nest at most 10 deep/);

    const big = { steps: [{ id: 'n', type: 'notify', url: 'https://hooks.example.com/x', body: { blob: 'x'.repeat(300 * 1024) } }] };
    const refused = await h.api('POST', '/v1/journeys', { key: uniqueKey('big'), name: 'big', definition: big });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'definition_too_large', details: { problems: [{ path: 'definition' }] } });
    const draft = await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: big });
    expect(draft.status).toBe(422);
    expect(draft.body.error.details.problems[0].path).toBe('definition');
  });
});

describe('every list pages with caps', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  /** Every id of a list, page by page through nextCursor; each page within its limit. */
  async function walk(path: string, field: string, limit: number, auth?: Record<string, string>): Promise<string[]> {
    const seen: string[] = [];
    let after: string | null = null;
    for (let i = 0; i < 1_000; i++) {
      const res: { status: number; body: any } = await h.api('GET', `${path}${path.includes('?') ? '&' : '?'}limit=${limit}${after ? `&after=${encodeURIComponent(after)}` : ''}`, undefined, auth);
      expect(res.status).toBe(200);
      expect(res.body[field].length).toBeLessThanOrEqual(limit);
      seen.push(...res.body[field].map((x: { id?: string; key?: string; version?: number }) => String(x.id ?? (field === 'versions' ? x.version : x.key))));
      after = res.body.nextCursor;
      if (after === null) return seen;
    }
    throw new Error(`${path}: no last page`);
  }

  it('journeys, API keys, template versions, an inbox and the audit export page with cursors; over-large pages are refused', async () => {
    const role = uniqueKey('inbox');
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [role] });
    const approverKey = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    const auth = { authorization: `Bearer ${approverKey.body.key}` };
    const journey = await h.publish({ steps: [{ id: 'ask', type: 'approval', title: 'Ask', assignee: { role } }] });
    await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    for (let i = 0; i < 3; i++) await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contact: { email: uniqueEmail() } });
    const template = uniqueKey('tpl');
    for (let i = 0; i < 3; i++) await h.api('POST', '/v1/templates', { key: template, subject: `v${i}`, text: 'Hi' });
    const open = await eventually(async () => { const t = await h.database.db.select().from(tasks).where(eq(tasks.journeyKey, journey)); return t.length === 3 && t; });

    const inbox = await walk('/v1/tasks', 'tasks', 2, auth);
    expect(inbox.sort()).toEqual(open.map((t) => t.id).sort());
    expect(await walk(`/v1/templates/${template}`, 'versions', 2)).toEqual(['1', '2', '3']);
    const keys = await walk('/v1/api-keys', 'keys', 500);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toContain(approverKey.body.id);
    const journeys = await walk('/v1/journeys', 'journeys', 50);
    expect(new Set(journeys).size).toBe(journeys.length);
    expect(journeys).toContain(journey);
    const audit = await walk(`/v1/audit?journeyKey=${journey}`, 'records', 2);
    expect(new Set(audit).size).toBe(audit.length);
    expect(audit.length).toBeGreaterThanOrEqual(6);

    for (const path of ['/v1/journeys?limit=1', '/v1/api-keys?limit=1']) expect((await h.api('GET', path)).body.nextCursor).toEqual(expect.any(String));
    for (const path of ['/v1/contacts', '/v1/journeys', '/v1/api-keys', `/v1/templates/${template}`]) expect((await h.api('GET', `${path}?limit=501`)).status).toBe(400);
    expect((await h.api('GET', '/v1/tasks?limit=201', undefined, auth)).status).toBe(400);
    expect((await h.api('GET', '/v1/tasks?after=not-a-task', undefined, auth)).status).toBe(400);
  });
});

describe('views that embed lists stay bounded', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it("an enrolment shows its latest 200 audit records and a journey its latest 100 versions", async () => {
    const key = await h.publish({ steps: [{ id: 'long', type: 'wait', duration: '1h' }] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('long') } });
    const e = enrolled.body as { id: string; workflowId: string; contactId: string };
    for (let i = 0; i < 250; i++) {
      await appendAudit(h.database.db, {
        actor: 'test', action: 'test.note', outcome: `n${i}`, contactId: e.contactId, journeyKey: key, enrolmentId: e.id,
        workflowId: e.workflowId, idempotencyKey: `${e.workflowId}:note:${i}`,
      });
    }
    const view = await h.api('GET', `/v1/enrolments/${e.id}`);
    expect(view.body.path).toHaveLength(200);
    expect(view.body.path.at(-1).outcome).toBe('n249');
    for (let v = 2; v <= 102; v++) {
      await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: { steps: [{ id: 'long', type: 'wait', duration: `${v}h` }] } });
      expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(201);
    }
    const journey = await h.api('GET', `/v1/journeys/${key}`);
    expect(journey.body.versions).toHaveLength(100);
    expect(journey.body.versions.at(-1).version).toBe(102);
    await h.api('POST', `/v1/enrolments/${e.id}/cancel`, { reason: 'test over' });
  }, 120_000);
});

describe('requests are judged by the route they reach', () => {
  const stack = harnessWithApis();
  let h: Harness;
  beforeAll(() => { h = stack.harness(); });
  const started = async (extra: Partial<ApiDeps>) => (await stack.start(extra)).url;
  const bearer = (key: string) => ({ authorization: `Bearer ${key}` });
  const basic = (key: string) => ({ authorization: `Basic ${Buffer.from(`:${key}`).toString('base64')}` });
  const errorOf = async (res: Response) => ((await res.json()) as { error: { code: string; message: string } }).error;

  it('limits an encoded path like the plain one: one count per key, whatever the spelling', async () => {
    const url = await started({ rateLimitPerMinute: 5 });
    const statuses: number[] = [];
    for (const path of ['/v1/contacts', '/%761/contacts', '/v1/%63ontacts', '/%76%31/%63ontacts?limit=1', '/v1/contacts', '/%761/contacts', '/v1/%63ontacts']) {
      statuses.push((await fetch(`${url}${path}`, { headers: bearer(h.keys.service) })).status);
    }
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429, 429]);
    // A trailing slash reaches /v1/contacts/:id, on the same key's count; double slashes reach no route (404).
    const status = (path: string) => fetch(`${url}${path}`, { headers: bearer(h.keys.service) }).then((r) => r.status);
    expect([await status('/v1/contacts/'), await status('/%761/contacts/'), await status('//v1/contacts'), await status('/v1//contacts')]).toEqual([429, 429, 404, 404]);
  });

  it('authorises an encoded path like the plain one, and takes HTTP Basic only on pages', async () => {
    const url = await started({});
    const noKey = await fetch(`${url}/%761/contacts`);
    expect(noKey.status).toBe(401);
    expect(noKey.headers.get('www-authenticate')).toBeNull();
    expect((await fetch(`${url}/%761/api-keys`, { headers: bearer(h.keys.service) })).status).toBe(403);
    for (const path of ['/v1/contacts', '/%761/contacts', '/v1/journeys']) {
      const res = await fetch(`${url}${path}`, { headers: basic(h.keys.admin) });
      expect({ path, status: res.status, challenge: res.headers.get('www-authenticate') }).toEqual({ path, status: 401, challenge: null });
      expect((await errorOf(res)).message).toMatch(/Basic is accepted only on pages/);
    }
    // The results page (HTML) takes Basic, and challenges for it, however its path is spelled.
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    expect((await fetch(`${url}/%6aourneys/${key}`, { headers: basic(h.keys.service) })).status).toBe(200);
    const challenge = await fetch(`${url}/%6aourneys/${key}`);
    expect(challenge.status).toBe(401);
    expect(challenge.headers.get('www-authenticate')).toContain('Basic');
  });

  it('takes /v1 writes only as application/json (415), bodyless writes without a type, and leaves form posts to pages alone', async () => {
    const url = await started({});
    const contact = JSON.stringify({ email: uniqueEmail() });
    for (const [path, type] of [['/v1/contacts', 'text/plain'], ['/%761/contacts', 'text/plain'], ['/v1/contacts', 'application/x-www-form-urlencoded'], ['/v1/contacts', 'multipart/form-data; boundary=x']]) {
      const res = await fetch(`${url}${path}`, { method: 'POST', headers: { ...bearer(h.keys.admin), 'content-type': type! }, body: contact });
      expect({ path, type, status: res.status, code: (await errorOf(res)).code }).toEqual({ path, type, status: 415, code: 'unsupported_media_type' });
    }
    // A body without any content type is refused too; JSON with a charset is JSON.
    const untyped = await fetch(`${url}/v1/contacts`, { method: 'POST', headers: bearer(h.keys.admin), body: new Blob([contact]) });
    expect(untyped.status).toBe(415);
    expect((await fetch(`${url}/v1/contacts`, { method: 'POST', headers: { ...bearer(h.keys.admin), 'content-type': 'application/json; charset=utf-8' }, body: contact })).status).toBe(201);
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    expect((await fetch(`${url}/v1/journeys/${key}/pause`, { method: 'POST', headers: bearer(h.keys.admin) })).status).toBe(200);
    // The one-click unsubscribe (not under /v1) still takes a form post: an invalid token gets its page, not a 415.
    const oneClick = await fetch(`${url}/unsubscribe/not-a-valid-token`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(400);
    expect(oneClick.headers.get('content-type')).toContain('text/html');
  });

  it('limits failed authentications per client address: past the limit even a good key waits', async () => {
    const url = await started({ authFailureLimitPerMinute: 3 });
    const wrong = bearer('nrt_nothing_notakey');
    const statuses: number[] = [];
    for (let i = 0; i < 3; i++) statuses.push((await fetch(`${url}/v1/contacts`, { headers: wrong })).status);
    const blocked = await fetch(`${url}/%761/contacts`, { headers: bearer(h.keys.service) });
    expect(statuses).toEqual([401, 401, 401]);
    expect(blocked.status).toBe(429);
    expect((await errorOf(blocked)).code).toBe('too_many_failed_authentications');
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // Requests without any key are no failed authentication; public routes stay open.
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
  });

  it('limits the public routes per client address, encoded or not, and believes X-Forwarded-For only when told', async () => {
    const url = await started({ publicRateLimitPerMinute: 3 });
    const statuses: number[] = [];
    for (const path of ['/t/o/not-a-valid-token', '/t/%6f/not-a-valid-token', '/unsubscribe/not-a-valid-token', '/t/c/not-a-valid-token', '/tasks/00000000-0000-4000-8000-000000000000']) {
      statuses.push((await fetch(`${url}${path}`, { redirect: 'manual' })).status);
    }
    expect(statuses).toEqual([200, 200, 400, 429, 429]);
    // Without TRUST_PROXY a forged X-Forwarded-For changes nothing.
    expect((await fetch(`${url}/t/o/not-a-valid-token`, { headers: { 'x-forwarded-for': '198.51.100.7' } })).status).toBe(429);

    const proxied = await started({ publicRateLimitPerMinute: 2, trustProxy: true });
    const from = (address: string) => fetch(`${proxied}/t/o/not-a-valid-token`, { headers: { 'x-forwarded-for': address } }).then((r) => r.status);
    expect([await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.1'), await from('198.51.100.2')]).toEqual([200, 200, 429, 200]);
  });

  it('refuses JSON nested past 64 levels before any schema walks it', async () => {
    const properties = `${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}`;
    const res = await h.api('POST', '/v1/events', `{"contact":{"email":"${uniqueEmail()}"},"name":"deep","properties":${properties}}`);
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('too_deeply_nested');
  });
});

describe('the database pool', () => {
  it('cancels a statement past its timeout (30 s by default) and keeps the connection usable', async () => {
    const database = await openDatabase({ url: testEnvironment().databaseUrl, poolSize: 1, statementTimeoutMs: 300 });
    try {
      const started = Date.now();
      await expect(database.db.execute(sql`select pg_sleep(5)`)).rejects.toMatchObject({ cause: expect.objectContaining({ code: '57014' }) });
      expect(Date.now() - started).toBeLessThan(3_000);
      await database.ping();
      await database.migrate();
      const defaults = await openDatabase({ url: testEnvironment().databaseUrl, poolSize: 1 });
      const shown = await defaults.db.execute(sql`show statement_timeout`) as unknown as { rows: Array<{ statement_timeout: string }> };
      expect(shown.rows[0]).toEqual({ statement_timeout: '30s' });
      await defaults.close();
    } finally {
      await database.close();
    }
  });
});

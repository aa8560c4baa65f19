import { createHash } from 'node:crypto';
import { Writable } from 'node:stream';
import pino from 'pino';
import type { ApiDeps } from '../../api/deps';
import type { DatabaseHandle } from '../../db/client';
import { harnessWithApis } from '../support/extra-api';
import type { Harness } from '../support/harness';

/** What leaves the process: log lines, page headers, readiness and metrics answers. */
describe('logs and pages', () => {
  const stack = harnessWithApis();
  let h: Harness;
  beforeAll(() => { h = stack.harness(); });
  /** An API whose log lines are kept, as the process would write them. */
  const logged = async (extra: Partial<ApiDeps> = {}) => {
    const lines: string[] = [];
    const sink = new Writable({ write(chunk, _encoding, done) { lines.push(String(chunk)); done(); } });
    return { ...(await stack.start(extra, pino({ level: 'info' }, sink))), lines };
  };

  it('logs no API key and no link token, however the URL is spelled', async () => {
    const { url, app, lines } = await logged();
    const secret = 'SeCrEtT0ken.abcdefghijklmnopqrstuvwxyz';
    for (const path of [`/unsubscribe/${secret}`, `/%75nsubscribe/${secret}`, `/t/o/${secret}`, `/t/c/${secret}?x=1`, `/tasks/00000000-0000-4000-8000-000000000000?token=${secret}`]) {
      await fetch(`${url}${path}`, { redirect: 'manual' });
    }
    await fetch(`${url}/v1/contacts?limit=1`, { headers: { authorization: `Bearer ${h.keys.service}` } });
    await fetch(`${url}/v1/contacts`, { headers: { authorization: `Basic ${Buffer.from(`:${h.keys.admin}`).toString('base64')}` } });
    app.log.warn({ headers: { authorization: `Bearer ${h.keys.admin}`, cookie: 'session=1' } }, 'a handler logging headers');
    const text = lines.join('');
    expect(text).toContain('/unsubscribe/[redacted]');
    expect(text).toContain('/t/o/[redacted]');
    expect(text).toContain('/t/c/[redacted]?x=1');
    expect(text).toContain('?token=[redacted]');
    expect(text).toContain('"authorization":"[redacted]"');
    for (const leak of [secret, h.keys.service, h.keys.admin, h.keys.admin.split('_')[2]!]) expect(text).not.toContain(leak);
  });

  it('sends pages with a CSP that allows only their own stylesheet, nosniff on every answer, and docs with their own policy', async () => {
    const { url } = await logged();
    const unsubscribe = await fetch(`${url}/unsubscribe/not-a-valid-token`);
    const csp = unsubscribe.headers.get('content-security-policy') ?? '';
    for (const directive of ["default-src 'none'", "img-src 'self' data:", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"]) expect(csp).toContain(directive);
    expect(csp).not.toContain('unsafe-inline');
    expect(unsubscribe.headers.get('x-frame-options')).toBe('DENY');
    const styleHash = (html: string) => `'sha256-${createHash('sha256').update(/<style>([\s\S]*?)<\/style>/.exec(html)![1]!).digest('base64')}'`;
    expect(csp).toContain(styleHash(await unsubscribe.text()));
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] });
    const results = await fetch(`${url}/journeys/${key}`, { headers: { authorization: `Basic ${Buffer.from(`:${h.keys.service}`).toString('base64')}` } });
    expect(results.headers.get('content-security-policy')).toContain(styleHash(await results.text()));

    for (const [path, init] of [['/healthz', {}], ['/v1/nothing-here', {}], ['/t/o/not-a-valid-token', {}], ['/v1/contacts/%E0%A4%A', {}],
      ['/v1/contacts', { method: 'POST', headers: { 'content-type': 'text/plain', authorization: `Bearer ${h.keys.admin}` }, body: '{}' }], ['/docs/', {}]] as const) {
      const res = await fetch(`${url}${path}`, init as RequestInit);
      expect({ path, nosniff: res.headers.get('x-content-type-options') }).toEqual({ path, nosniff: 'nosniff' });
    }
    expect((await fetch(`${url}/healthz`)).headers.get('content-security-policy')).toBeNull();
    const docs = await fetch(`${url}/docs/`);
    expect(docs.status).toBe(200);
    expect(docs.headers.get('content-security-policy')).toContain("script-src 'self'");
    expect(docs.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('says which dependency is down in /readyz, never its error text (that goes to the log)', async () => {
    const failing: DatabaseHandle = { ...h.database, ping: async () => { throw new Error('password authentication failed for user "nurture" at 10.9.8.7:5432'); } };
    const { url, lines } = await logged({ database: failing });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(503);
    const body = await ready.text();
    expect(JSON.parse(body)).toEqual({ status: 'unavailable', checks: { database: 'unavailable', temporal: 'ok' } });
    expect(body).not.toContain('10.9.8.7');
    expect(lines.join('')).toContain('10.9.8.7');
  });

  it('serves /metrics only for the bearer of METRICS_TOKEN when one is set', async () => {
    const { url } = await logged({ metricsToken: 'metrics-token-0123456789' });
    expect((await fetch(`${url}/metrics`)).status).toBe(401);
    expect((await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-token-wrong' } })).status).toBe(401);
    const allowed = await fetch(`${url}/metrics`, { headers: { authorization: 'Bearer metrics-token-0123456789' } });
    expect(allowed.status).toBe(200);
    expect(await allowed.text()).toContain('nurture_api_requests_total');
    expect((await fetch(`${h.baseUrl}/metrics`)).status).toBe(200);
  });
});


import { sql } from 'drizzle-orm';
import { evidenceDigest } from '../../services/contacts/consent-ledger';
import { signToken } from '../../services/lib/signing';
import { startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/**
 * The consent ledger on the real stack: every change (API, unsubscribe, provider feedback,
 * import) is appended with before and after, source, actor and evidence, and audited; a grant
 * cannot quietly override a denial the contact made.
 */
describe('consent ledger', () => {
  let h: Harness;
  let adminActor: string;
  beforeAll(async () => {
    h = await startHarness();
    const keys = await h.api('GET', '/v1/api-keys?limit=500');
    adminActor = `api_key:${(keys.body.keys as Array<{ id: string; prefix: string }>).find((k) => h.keys.admin.startsWith(`nrt_${k.prefix}_`))!.id}`;
  });
  afterAll(async () => { await h?.stop(); });

  const history = async (contactId: string, query = '') => (await h.api('GET', `/v1/contacts/${contactId}/consents/history${query}`)).body;
  const consentAudit = async (contactId: string) => ((await h.api('GET', `/v1/audit?contactId=${contactId}`)).body.records as Array<Record<string, any>>)
    .filter((r) => r.action.startsWith('consent.'));

  async function unsubscribeOneClick(contactId: string, userAgent: string) {
    const token = signToken('unsubscribe', { c: contactId, t: 'marketing' }, TEST_SECRETS.signing);
    return fetch(`${h.baseUrl}/unsubscribe/${token}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': userAgent }, body: 'List-Unsubscribe=One-Click',
    });
  }

  it('refuses a re-grant of an unsubscribed contact without a re-consent, applies nothing of the request, and takes one with its evidence', async () => {
    const created = await h.api('POST', '/v1/contacts', {
      email: uniqueEmail('ledger'), firstName: 'Ada',
      consents: [{ status: 'granted', source: 'signup form', evidence: { formId: 'signup-2026', url: 'https://example.test/signup' } }],
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;

    expect((await unsubscribeOneClick(id, 'AuditMail/1.0 (one-click)')).status).toBe(200);
    // A second click changes nothing and records nothing.
    expect((await unsubscribeOneClick(id, 'AuditMail/1.0 (one-click)')).status).toBe(200);

    // A CRM sync re-grants: refused whole, naming the field; the name it carried is not applied either.
    const regrant = await h.api('PATCH', `/v1/contacts/${id}`, { firstName: 'Changed', consents: [{ status: 'granted', source: 'crm sync' }] });
    expect(regrant.status).toBe(409);
    expect(regrant.body.error).toMatchObject({ code: 'reconsent_required', details: { field: 'consents.0.reconsent', contactId: id } });
    expect(regrant.body.error.details.problems).toEqual([expect.objectContaining({ path: 'consents.0.reconsent', message: expect.stringContaining('one-click unsubscribe') })]);
    const upsert = await h.api('POST', '/v1/contacts', { email: created.body.email, lastName: 'Lovelace', consents: [{ topic: 'news', status: 'granted', source: 'crm sync' }, { status: 'granted', source: 'crm sync' }] });
    expect(upsert.status).toBe(409);
    expect(upsert.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['consents.1.reconsent']);
    const unchanged = (await h.api('GET', `/v1/contacts/${id}`)).body;
    expect(unchanged).toMatchObject({ firstName: 'Ada', lastName: null });
    expect(unchanged.consents).toEqual([expect.objectContaining({ topic: 'marketing', status: 'denied', source: 'one-click unsubscribe' })]);
    // A re-consent is refused unless it is a grant.
    expect((await h.api('PATCH', `/v1/contacts/${id}`, { consents: [{ status: 'denied', source: 'x', reconsent: { evidence: 'e', at: new Date().toISOString() } }] })).status).toBe(400);

    const at = new Date(Date.now() - 60_000).toISOString();
    const reconsent = await h.api('PATCH', `/v1/contacts/${id}`, {
      firstName: 'Ada L.', consents: [{ status: 'granted', source: 'preference centre', reconsent: { evidence: 'double opt-in confirmed by link 7f3a', at } }],
    });
    expect(reconsent.status).toBe(200);
    expect(reconsent.body.firstName).toBe('Ada L.');

    const { history: rows, nextCursor } = await history(id);
    expect(nextCursor).toBeNull();
    expect(rows).toEqual([
      expect.objectContaining({
        channel: 'email', topic: 'marketing', before: null, after: { status: 'granted', source: 'signup form' }, previousId: null,
        madeBy: 'contact', via: 'api', actor: adminActor, evidence: { formId: 'signup-2026', url: 'https://example.test/signup' }, reconsent: null,
      }),
      expect.objectContaining({
        before: { status: 'granted', source: 'signup form' }, after: { status: 'denied', source: 'one-click unsubscribe' }, previousId: rows[0].id,
        madeBy: 'contact', via: 'unsubscribe', actor: 'contact',
        evidence: { clientAddress: '127.0.0.1', userAgent: 'AuditMail/1.0 (one-click)', oneClick: true }, reconsent: null,
      }),
      expect.objectContaining({
        before: { status: 'denied', source: 'one-click unsubscribe' }, after: { status: 'granted', source: 'preference centre' }, previousId: rows[1].id,
        via: 'api', actor: adminActor, reconsent: { evidence: 'double opt-in confirmed by link 7f3a', at },
      }),
    ]);
    expect((await h.api('GET', `/v1/contacts/${id}`)).body.consents).toEqual([expect.objectContaining({ status: 'granted', historyId: rows[2].id })]);

    // Each change is audited once, with the history row's id and a digest of its evidence.
    const audited = await consentAudit(id);
    expect(audited.map((r) => [r.action, r.outcome, r.actor])).toEqual([
      ['consent.granted', 'granted', adminActor], ['consent.withdrawn', 'unsubscribed', 'contact'], ['consent.reconsented', 'granted', adminActor],
    ]);
    expect(audited.map((r) => r.details.historyId)).toEqual(rows.map((r: { id: number }) => r.id));
    expect(audited[1]!.details).toMatchObject({ before: { status: 'granted', source: 'signup form' }, after: { status: 'denied', source: 'one-click unsubscribe' }, via: 'unsubscribe' });
    expect(audited[1]!.details.evidenceDigest).toBe(evidenceDigest({ evidence: rows[1].evidence, reconsent: null }));
    expect(JSON.stringify(audited)).not.toContain('127.0.0.1');
    expect((await h.api('GET', `/v1/audit/verify?chain=contact:${id}`)).body).toMatchObject({ ok: true });

    // The history is append-only for the runtime role the API runs as (deploy/postgres/roles.sql).
    for (const tamper of [sql`update consent_history set status = 'granted' where id = ${rows[1].id}`, sql`delete from consent_history where id = ${rows[1].id}`]) {
      await expect(h.database.db.execute(tamper)).rejects.toMatchObject({ cause: expect.objectContaining({ code: '42501' }) });
    }

    // Paged, oldest first.
    const first = await history(id, '?limit=2');
    expect(first.history).toHaveLength(2);
    expect((await history(id, `?limit=2&after=${first.nextCursor}`)).history.map((r: { id: number }) => r.id)).toEqual([rows[2].id]);
  });

  it('lets a grant follow a denial the business made, and records nothing for a repeat', async () => {
    const id = (await h.api('POST', '/v1/contacts', { email: uniqueEmail('business') })).body.id as string;
    expect((await h.api('PATCH', `/v1/contacts/${id}`, { consents: [{ topic: 'news', status: 'denied', source: 'data quality hold', madeBy: 'business' }] })).status).toBe(200);
    expect((await h.api('PATCH', `/v1/contacts/${id}`, { consents: [{ topic: 'news', status: 'granted', source: 'hold lifted', evidence: { note: 'ticket 42' } }] })).status).toBe(200);
    expect((await h.api('PATCH', `/v1/contacts/${id}`, { consents: [{ topic: 'news', status: 'granted', source: 'hold lifted', evidence: { note: 'ticket 42' } }] })).status).toBe(200);
    const rows = (await history(id)).history;
    expect(rows.map((r: any) => [r.after.status, r.madeBy])).toEqual([['denied', 'business'], ['granted', 'contact']]);
    expect((await consentAudit(id))).toHaveLength(2);
  });

  it('records a complaint as the contact\'s denial of all email, which a grant cannot override without a re-consent', async () => {
    const email = uniqueEmail('complainer');
    const id = (await h.api('POST', '/v1/contacts', { email, consents: [{ topic: 'all', status: 'granted', source: 'signup form' }] })).body.id as string;
    const feedback = await h.api('POST', '/v1/email/feedback', { type: 'complaint', email: email.toUpperCase(), messageId: '<m-17@nurture.test>', source: 'ses' });
    expect(feedback.body).toEqual({ suppressed: true });
    const rows = (await history(id)).history;
    expect(rows[1]).toMatchObject({
      topic: 'all', before: { status: 'granted', source: 'signup form' }, after: { status: 'denied', source: 'complaint (ses)' },
      madeBy: 'contact', via: 'provider_feedback', actor: 'provider', evidence: { feedback: 'complaint', messageId: '<m-17@nurture.test>', reportedBy: 'ses' },
    });
    const audited = await consentAudit(id);
    expect(audited.at(-1)).toMatchObject({ action: 'consent.withdrawn', actor: 'provider', details: { historyId: rows[1].id, via: 'provider_feedback' } });
    const regrant = await h.api('POST', '/v1/contacts', { email, consents: [{ topic: 'all', status: 'granted', source: 'crm sync' }] });
    expect(regrant.status).toBe(409);
    expect(regrant.body.error.details.field).toBe('consents.0.reconsent');
  });

  it('records consents that arrive with an imported contact, with the import id the caller gave', async () => {
    const key = await h.publish({ steps: [{ id: 'w', type: 'wait', duration: '1h' }] }, uniqueKey('import'));
    const email = uniqueEmail('imported');
    const bulk = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: [
      { contact: { email, consents: [{ status: 'granted', source: 'webinar list', evidence: { importId: 'import-2026-11-25', formId: 'webinar-7' } }] } },
    ] });
    expect(bulk.body.created).toBe(1);
    const id = bulk.body.results[0].enrolment.contactId as string;
    expect((await history(id)).history).toEqual([expect.objectContaining({
      after: { status: 'granted', source: 'webinar list' }, via: 'import', evidence: { importId: 'import-2026-11-25', formId: 'webinar-7' },
    })]);

    // An import cannot re-grant what the contact withdrew either: that item fails, the others go in.
    await unsubscribeOneClick(id, 'AuditMail/2.0');
    const again = await h.api('POST', `/v1/journeys/${key}/enrolments/bulk`, { items: [
      { contact: { email, consents: [{ status: 'granted', source: 'webinar list' }] } }, { contact: { email: uniqueEmail('other') } },
    ] });
    expect(again.body.results.map((r: { status: string; error?: { code: string } }) => r.error?.code ?? r.status)).toEqual(['reconsent_required', 'created']);
  });
});

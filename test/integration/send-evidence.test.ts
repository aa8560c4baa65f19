import pino from 'pino';
import { deliverEmail } from '../../services/email/delivery';
import { createMailer } from '../../services/email/mailer';
import { startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/**
 * Evidence per send: one call says why an email was or was not sent, from what was recorded when
 * it was decided; the transactional category needs an admin-marked reason.
 */
describe('send evidence', () => {
  let h: Harness;
  let adminActor: string;
  const cap = { count: 5, windowMs: 86_400_000 };
  beforeAll(async () => {
    h = await startHarness({ email: { frequencyCap: cap } });
    const keys = await h.api('GET', '/v1/api-keys?limit=500');
    adminActor = `api_key:${(keys.body.keys as Array<{ id: string; prefix: string }>).find((k) => h.keys.admin.startsWith(`nrt_${k.prefix}_`))!.id}`;
  });
  afterAll(async () => { await h?.stop(); });

  const evidence = async (key: string) => h.api('GET', `/v1/emails/${encodeURIComponent(key)}/evidence`);
  const receipt = { id: 'receipt', type: 'send_email', subject: 'Your receipt', text: 'Thanks', category: 'transactional' };

  it('refuses to publish a transactional step without a reason, and audits the admin key that marks one with its reason', async () => {
    const key = uniqueKey('receipts');
    await h.api('POST', '/v1/journeys', { key, name: key, definition: { steps: [receipt] } });
    const refused = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].transactionalReason', stepId: 'receipt' })]);
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.draftProblems).toEqual([expect.objectContaining({ path: 'definition.steps[0].transactionalReason' })]);

    await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: { steps: [{ ...receipt, transactionalReason: 'order receipt the customer asked for' }] } });
    // Publishing takes an admin key: a service key may not mark a step transactional.
    expect((await h.api('POST', `/v1/journeys/${key}/publish`, undefined, { authorization: `Bearer ${h.keys.service}` })).status).toBe(403);
    expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(201);
    expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(200);
    const records = (await h.api('GET', `/v1/audit?journeyKey=${key}`)).body.records;
    expect(records).toEqual([expect.objectContaining({
      action: 'journey.transactional_marked', actor: adminActor, journeyVersion: 1,
      details: { steps: [{ stepId: 'receipt', reason: 'order receipt the customer asked for' }] },
    })]);
  });

  it('answers for a sent and a skipped email with the checks, the consent record and the versions as they were then', async () => {
    const template = await h.api('POST', '/v1/templates', { key: uniqueKey('news'), subject: 'News', text: 'Hi {{ contact.firstName }}' });
    const key = await h.publish({ steps: [
      { id: 'news', type: 'send_email', template: template.body.key, next: 'receipt' },
      { ...receipt, transactionalReason: 'order receipt' },
    ] });

    // Sent: consent granted through the API (with its form id), not suppressed, within the cap.
    const granted = await h.api('POST', '/v1/contacts', { email: uniqueEmail('granted'), firstName: 'Grace', consents: [{ status: 'granted', source: 'signup form', evidence: { formId: 'signup-9' } }] });
    const grant = (await h.api('GET', `/v1/contacts/${granted.body.id}/consents/history`)).body.history[0];
    const sent = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: granted.body.id })).body;
    await h.result(sent.workflowId);
    // The consent changes afterwards: the evidence still says what was true at the send.
    await h.api('PATCH', `/v1/contacts/${granted.body.id}`, { consents: [{ status: 'denied', source: 'preference centre' }] });

    const news = await evidence(`${sent.workflowId}:news:1`);
    expect(news.status).toBe(200);
    expect(news.body).toMatchObject({
      status: 'sent', skipReason: null, contactId: granted.body.id, enrolmentId: sent.id, stepId: 'news', journey: { key, version: 1 },
      template: { key: template.body.key, version: 1 }, category: 'marketing', transactionalReason: null,
      providerMessageId: expect.stringMatching(/^<.+@nurture\.test>$/), sentAt: expect.any(String),
      checks: {
        category: 'marketing', requestedCategory: 'marketing', topic: 'marketing',
        suppression: { passed: true, reason: null },
        consent: { required: true, passed: true, state: 'granted (signup form)', basis: 'topic', mode: 'opt_out', recordId: grant.id },
        frequencyCap: { applied: true, passed: true, sent: 0, limit: 5, windowMs: cap.windowMs },
      },
      consentRecord: { id: grant.id, after: { status: 'granted', source: 'signup form' }, via: 'api', evidence: { formId: 'signup-9' } },
      auditRecord: { action: 'email.sent', outcome: 'sent', chain: `enrolment:${sent.id}` },
    });
    expect(news.body.summary).toMatch(/^sent; address not suppressed; consent allowed: granted \(signup form\) \(consent record \d+\); frequency cap held: 0 of 5/);
    const transactional = await evidence(`${sent.workflowId}:receipt:1`);
    expect(transactional.body).toMatchObject({
      status: 'sent', category: 'transactional', transactionalReason: 'order receipt', consentRecord: null,
      checks: { consent: { required: false, why: 'transactional: order receipt' }, frequencyCap: { applied: false }, suppression: { passed: true } },
    });

    // The audit export carries the same checks in the step's record.
    const audit = (await h.api('GET', `/v1/audit?enrolmentId=${sent.id}`)).body.records as Array<Record<string, any>>;
    const newsRecord = audit.find((r) => r.stepId === 'news')!;
    expect(newsRecord.id).toBe(news.body.auditRecord.id);
    expect(newsRecord.providerMessageId).toBe(news.body.providerMessageId);
    expect(newsRecord.details.checks).toEqual(news.body.checks);

    // Skipped: the contact denied consent; the evidence names the denial it relied on.
    const denied = await h.api('POST', '/v1/contacts', { email: uniqueEmail('denied'), consents: [{ status: 'denied', source: 'preference centre', evidence: { formId: 'prefs-1' } }] });
    const denial = (await h.api('GET', `/v1/contacts/${denied.body.id}/consents/history`)).body.history[0];
    const skipped = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: denied.body.id })).body;
    await h.result(skipped.workflowId);
    const refused = await evidence(`${skipped.workflowId}:news:1`);
    expect(refused.body).toMatchObject({
      status: 'skipped', skipReason: 'no_consent', providerMessageId: null, sentAt: null, journey: { key, version: 1 }, stepId: 'news',
      checks: {
        suppression: { passed: true },
        consent: { required: true, passed: false, state: 'denied (preference centre)', recordId: denial.id },
        frequencyCap: { applied: true, passed: true, sent: 0, limit: 5 },
      },
      consentRecord: { id: denial.id, after: { status: 'denied', source: 'preference centre' }, evidence: { formId: 'prefs-1' } },
      auditRecord: { action: 'email.skipped', outcome: 'skipped' },
    });
    expect(refused.body.summary).toMatch(/^not sent \(no_consent\); address not suppressed; consent refused: denied \(preference centre\)/);

    // Suppression applies to every email: a hard-bounced address gets no transactional email either.
    const bounced = uniqueEmail('bounced');
    await h.api('POST', '/v1/email/feedback', { type: 'bounce', email: bounced, bounceType: 'hard', source: 'ses' });
    const b = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: bounced } })).body;
    await h.result(b.workflowId);
    expect(h.smtp.to(bounced)).toHaveLength(0);
    expect((await evidence(`${b.workflowId}:receipt:1`)).body).toMatchObject({
      status: 'skipped', skipReason: 'suppressed', transactionalReason: 'order receipt',
      checks: { suppression: { passed: false, reason: 'hard_bounce', source: 'ses', since: expect.any(String) }, consent: { required: false } },
    });

    expect((await evidence('journey:nope:1')).status).toBe(404);
    expect((await h.api('GET', `/v1/emails/${encodeURIComponent(`${sent.workflowId}:news:1`)}/evidence`, undefined, { authorization: `Bearer ${h.keys.service}` })).status).toBe(403);
  });

  it('checks a transactional send without an admin-marked reason (a version published before the rule) as marketing', async () => {
    const email = uniqueEmail('legacy');
    const contact = await h.api('POST', '/v1/contacts', { email, consents: [{ status: 'denied', source: 'preference centre' }] });
    const mailer = createMailer(h.smtp.url, pino({ level: 'silent' }));
    try {
      const settings = { from: 'Nurture Test <journeys@nurture.test>', publicUrl: h.baseUrl, signingSecret: TEST_SECRETS.signing, tracking: false, consentMode: 'opt_out' as const };
      const result = await deliverEmail(h.database.db, mailer, settings, {
        idempotencyKey: `legacy:${contact.body.id}`, contactId: contact.body.id, category: 'transactional', content: { subject: 'Legacy', text: 'x' },
      });
      expect(result).toMatchObject({ status: 'skipped', reason: 'no_consent', checks: { category: 'marketing', requestedCategory: 'transactional', transactionalReason: null } });
      expect(h.smtp.to(email)).toHaveLength(0);
    } finally {
      mailer.close();
    }
  });
});

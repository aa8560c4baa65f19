import { eq, sql } from 'drizzle-orm';
import { auditRecords, outgoingEmails } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

/** Email as the outside world sees it: real SMTP, real HTTP for unsubscribe and tracking. */
describe('email actions', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ email: { frequencyCap: { count: 2, windowMs: 3_600_000 } } }); });
  afterAll(async () => { await h?.stop(); });

  const auditOf = async (enrolmentId: string) => h.database.db.select().from(auditRecords)
    .where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(auditRecords.id);
  async function enrol(key: string, contact: Record<string, unknown>) {
    const r = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact });
    expect(r.status).toBe(201);
    return r.body as { id: string; workflowId: string; contactId: string };
  }

  it('sends a personalised template with List-Unsubscribe headers; the one-click POST stops the next send', async () => {
    const template = await h.api('POST', '/v1/templates', {
      key: 'welcome-' + Date.now(), subject: 'Welcome {{ contact.firstName | default: "friend" }} from {{ contact.company }}',
      text: 'Hi {{ contact.firstName }}, your plan is {{ contact.attributes.plan | default: "free" }}.',
      html: '<p>Hi {{ contact.firstName }}</p><p><a href="https://example.com/docs">Docs</a></p>',
    });
    expect(template.status).toBe(201);
    const key = await h.publish({ steps: [
      { id: 'welcome', type: 'send_email', template: template.body.key, next: 'pause' },
      { id: 'pause', type: 'wait', duration: '2s', next: 'again' },
      { id: 'again', type: 'send_email', subject: 'Second', text: 'More' },
    ] });
    const version = await h.api('GET', `/v1/journeys/${key}/versions/1`);
    expect(version.body.definition.steps[0].templateVersion).toBe(1);

    const email = uniqueEmail('ada');
    const e = await enrol(key, { email, firstName: 'Ada', company: 'Analytical Engines', attributes: { plan: 'pro' } });
    const [message] = await eventually(async () => h.smtp.to(email).length ? h.smtp.to(email) : undefined);
    expect(message!.parsed.subject).toBe('Welcome Ada from Analytical Engines');
    expect(message!.parsed.text).toContain('your plan is pro.');
    const headerBlock = message!.raw.split('\r\n\r\n')[0]!.replace(/\r\n\s+/g, ' ');
    expect(headerBlock).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click$/m);
    const url = /^List-Unsubscribe: <(http[^>]+)>$/m.exec(headerBlock)![1]!;
    expect(url.startsWith(`${h.baseUrl}/unsubscribe/`)).toBe(true);
    expect(message!.parsed.text).toContain(url);

    // The page shows a button; the RFC 8058 one-click POST unsubscribes at once.
    const pageView = await fetch(url);
    expect(pageView.status).toBe(200);
    expect(pageView.headers.get('referrer-policy')).toBe('no-referrer');
    expect(await pageView.text()).toContain('<button type="submit">Unsubscribe</button>');
    const oneClick = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.text()).toContain('You are unsubscribed');

    await h.result(e.workflowId);
    expect(h.smtp.to(email)).toHaveLength(1);
    const skipped = (await auditOf(e.id)).find((a) => a.stepId === 'again')!;
    expect(skipped).toMatchObject({ action: 'email.skipped', outcome: 'skipped' });
    expect(skipped.details).toMatchObject({ reason: 'no_consent', consent: 'denied (one-click unsubscribe)' });
    const contact = await h.api('GET', `/v1/contacts/${e.contactId}`);
    expect(contact.body.consents).toEqual([expect.objectContaining({ channel: 'email', topic: 'marketing', status: 'denied', source: 'one-click unsubscribe' })]);
    expect((await fetch(`${h.baseUrl}/unsubscribe/forged.token-value`)).status).toBe(400);
  });

  it('an activity that fails after the SMTP server accepted is retried without a second message', async () => {
    // Fault injection in the real database, as the superuser (the runtime role may create no
    // table or trigger): the first "sent" settle of this address fails. The function runs as its
    // creator (security definer), so the worker's runtime role may write the fault table through it.
    await h.admin.db.execute(sql.raw(`
      create table if not exists fault_once (key text primary key);
      create or replace function fail_settle_once() returns trigger language plpgsql security definer set search_path = public as $$
      begin
        if new.status = 'sent' and new.to_address like 'fault-%' then
          insert into fault_once values (new.idempotency_key) on conflict do nothing;
          if found then raise exception 'injected fault after SMTP accepted'; end if;
        end if;
        return new;
      end $$;
      drop trigger if exists fail_settle_once on outgoing_emails;
      create trigger fail_settle_once before update on outgoing_emails for each row execute function fail_settle_once();`));
    const key = await h.publish({ steps: [{ id: 'once', type: 'send_email', subject: 'Only once', text: 'x' }] });
    const email = uniqueEmail('fault');
    const e = await enrol(key, { email });
    await h.result(e.workflowId);
    expect(h.smtp.to(email)).toHaveLength(1);
    const [ledger] = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.toAddress, email));
    expect(ledger!.status).toBe('unknown');
    expect((await auditOf(e.id)).find((a) => a.stepId === 'once')).toMatchObject({ action: 'email.unknown', details: expect.objectContaining({ reason: 'interrupted_mid_send' }) });
  });

  it('holds the per-contact frequency cap and honours the suppression list', async () => {
    const key = await h.publish({ steps: [
      { id: 'm1', type: 'send_email', subject: 'One', text: '1', next: 'm2' },
      { id: 'm2', type: 'send_email', subject: 'Two', text: '2', next: 'm3' },
      { id: 'm3', type: 'send_email', subject: 'Three', text: '3', next: 'receipt' },
      { id: 'receipt', type: 'send_email', subject: 'Receipt', text: 'r', category: 'transactional', transactionalReason: 'order receipt' },
    ] });
    const email = uniqueEmail('capped');
    const e = await enrol(key, { email });
    await h.result(e.workflowId);
    expect(h.smtp.to(email).map((m) => m.parsed.subject)).toEqual(['One', 'Two', 'Receipt']);
    expect((await auditOf(e.id)).find((a) => a.stepId === 'm3')!.details).toMatchObject({ reason: 'frequency_cap' });
    expect(h.smtp.to(email).find((m) => m.parsed.subject === 'Receipt')!.raw).not.toMatch(/^List-Unsubscribe/m);

    const bounced = uniqueEmail('bounced');
    expect((await h.api('POST', '/v1/email/feedback', { type: 'bounce', email: bounced, bounceType: 'hard' })).body).toEqual({ suppressed: true });
    const b = await enrol(key, { email: bounced });
    await h.result(b.workflowId);
    expect(h.smtp.to(bounced)).toHaveLength(0);
    expect((await auditOf(b.id)).find((a) => a.stepId === 'm1')!.details).toMatchObject({ reason: 'suppressed' });
  });

  it('an open and a click reach a waiting enrolment', async () => {
    const key = await h.publish({ steps: [
      { id: 'offer', type: 'send_email', subject: 'Offer', text: 'See https://example.com/offer', html: '<p><a href="https://example.com/offer">See the offer</a></p>', next: 'clicked' },
      { id: 'clicked', type: 'wait_for_event', event: 'email_clicked', condition: { field: 'event.properties.stepId', op: 'eq', value: 'offer' }, timeout: '20s', next: 'hot', onTimeout: 'cold' },
      { id: 'hot', type: 'update_contact', addTags: ['clicked'] },
      { id: 'cold', type: 'update_contact', addTags: ['ignored'] },
    ] });
    const email = uniqueEmail('clicker');
    const e = await enrol(key, { email });
    const [message] = await eventually(async () => h.smtp.to(email).length ? h.smtp.to(email) : undefined);
    const html = String(message!.parsed.html);
    const pixel = /<img src="([^"]+)"/.exec(html)![1]!;
    const click = /href="([^"]+\/t\/c\/[^"]+)"/.exec(html)![1]!;
    expect(html).not.toContain('href="https://example.com/offer"');
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${e.id}`)).body.currentStep === 'clicked');

    const opened = await fetch(pixel);
    expect(opened.headers.get('content-type')).toBe('image/gif');
    const redirected = await fetch(click, { redirect: 'manual' });
    expect(redirected.status).toBe(302);
    expect(redirected.headers.get('location')).toBe('https://example.com/offer');
    const result = await h.result(e.workflowId);
    expect(result.path.map((p: { stepId: string }) => p.stepId)).toEqual(['offer', 'clicked', 'hot']);
    expect((await h.api('GET', `/v1/contacts/${e.contactId}`)).body.tags).toEqual(['clicked']);
  });

  it('refuses bad templates and bad contact input with clear 4xx errors', async () => {
    const bad = await h.api('POST', '/v1/templates', { key: 'broken', subject: 'Hi {% if %}', text: 'x' });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems[0]).toMatchObject({ path: 'body.subject' });
    const badFilter = await h.api('POST', '/v1/templates', { key: 'broken', subject: 'Hi', text: '{{ contact.firstName | no_such_filter }}' });
    expect(badFilter.status).toBe(422);
    const key = `unknown-template-${Date.now()}`;
    await h.api('POST', '/v1/journeys', { key, name: key, definition: { steps: [{ id: 'mail', type: 'send_email', template: 'does-not-exist' }] } });
    const publish = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(publish.status).toBe(422);
    expect(publish.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].template', stepId: 'mail', message: 'step "mail": unknown template "does-not-exist"' })]);
    const phone = await h.api('POST', '/v1/contacts', { email: uniqueEmail(), phone: 'call me' });
    expect(phone.status).toBe(400);
    expect(phone.body.error.details.problems[0].path).toBe('body.phone');
    const consent = await h.api('POST', '/v1/contacts', { email: uniqueEmail(), consents: [{ status: 'maybe', source: 'form' }] });
    expect(consent.body.error.details.problems[0].path).toBe('body.consents.0.status');
    expect((await h.api('GET', '/v1/contacts?limit=0')).status).toBe(400);
  });
});

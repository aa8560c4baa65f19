import { and, eq } from 'drizzle-orm';
import { auditRecords, events } from '../../db/schema';
import { signToken } from '../../services/lib/signing';
import { eventually, startHarness, TEST_SECRETS, uniqueEmail, type Harness } from '../support/harness';

/** Links in emails: one purpose per token, one-click unsubscribe in both body encodings, once. */
describe('email links', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function emailFor(html: string) {
    const key = await h.publish({ steps: [{ id: 'hello', type: 'send_email', subject: 'Links', text: 'Hi', html }] });
    const email = uniqueEmail('links');
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } });
    await h.result(enrolled.body.workflowId);
    const [message] = await eventually(async () => (h.smtp.to(email).length ? h.smtp.to(email) : undefined));
    const html2 = String(message!.parsed.html);
    const headerBlock = message!.raw.split('\r\n\r\n')[0]!.replace(/\r\n\s+/g, ' ');
    return {
      contactId: enrolled.body.contactId as string,
      unsubscribe: /^List-Unsubscribe: <(http[^>]+)>$/m.exec(headerBlock)![1]!,
      pixel: /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(html2)![1]!,
      click: /href="([^"]+\/t\/c\/[^"]+)"/.exec(html2)?.[1] ?? "",
    };
  }
  const tokenOf = (url: string) => url.split('/').pop()!;

  it('an open-pixel or click token does not pass as an unsubscribe token, nor a forged one', async () => {
    const links = await emailFor('<p><a href="https://example.test/offer">Offer</a></p>');
    for (const wrong of [tokenOf(links.pixel), tokenOf(links.click), 'forged.token-value', signToken('unsubscribe', { c: links.contactId, t: 'marketing' }, 'z'.repeat(32))]) {
      expect((await fetch(`${h.baseUrl}/unsubscribe/${wrong}`, { method: 'POST' })).status).toBe(400);
    }
    // An unsubscribe token is no click redirect either.
    expect((await fetch(`${h.baseUrl}/t/c/${tokenOf(links.unsubscribe)}`, { redirect: 'manual' })).status).toBe(400);
    expect((await h.api('GET', `/v1/contacts/${links.contactId}`)).body.consents).toEqual([]);
    const click = await fetch(links.click, { redirect: 'manual' });
    expect(click.status).toBe(302);
    expect(click.headers.get('location')).toBe('https://example.test/offer');
  });

  it('an expired tracking link records nothing', async () => {
    const links = await emailFor('<p>Hi</p>');
    const expired = signToken('open', { c: links.contactId, n: 'x', s: 'hello', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRETS.signing);
    await fetch(`${h.baseUrl}/t/o/${expired}`);
    const expiredClick = signToken('click', { c: links.contactId, u: 'https://example.test/', exp: Math.floor(Date.now() / 1000) - 60 }, TEST_SECRETS.signing);
    expect((await fetch(`${h.baseUrl}/t/c/${expiredClick}`, { redirect: 'manual' })).status).toBe(400);
    const recorded = await h.database.db.select().from(events).where(eq(events.contactId, links.contactId));
    expect(recorded.filter((e) => e.name === 'email_opened' || e.name === 'email_clicked')).toEqual([]);
  });

  it('the one-click POST takes multipart/form-data, and a repeat changes and records nothing', async () => {
    const links = await emailFor('<p>Hi</p>');
    const form = new FormData();
    form.append('List-Unsubscribe', 'One-Click');
    const first = await fetch(links.unsubscribe, { method: 'POST', body: form });
    expect(first.status).toBe(200);
    expect(await first.text()).toContain('You are unsubscribed');
    const again = await fetch(links.unsubscribe, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(again.status).toBe(200);

    const contact = await h.api('GET', `/v1/contacts/${links.contactId}`);
    expect(contact.body.consents).toEqual([expect.objectContaining({ topic: 'marketing', status: 'denied', source: 'one-click unsubscribe' })]);
    const withdrawn = await h.database.db.select().from(auditRecords)
      .where(and(eq(auditRecords.contactId, links.contactId), eq(auditRecords.action, 'consent.withdrawn')));
    expect(withdrawn).toHaveLength(1);
    const unsubscribed = await h.database.db.select().from(events).where(and(eq(events.contactId, links.contactId), eq(events.name, 'unsubscribed')));
    expect(unsubscribed).toHaveLength(1);
  });
});

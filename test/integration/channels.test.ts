import { eq } from 'drizzle-orm';
import { outgoingSms } from '../../db/schema';
import { startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { startSmsReceiver } from '../support/sms-receiver';

/**
 * send_message steps send on the contact's preferred channel, or the next one of the step's
 * fallback list that has an address and consent, and record which and why. SMS goes to a local
 * receiver of Twilio's request shape, once per step visit: a 4xx is recorded, a 5xx retried.
 */
describe('the contact\'s preferred channel', () => {
  let h: Harness;
  let sms: Awaited<ReturnType<typeof startSmsReceiver>>;
  beforeAll(async () => {
    sms = await startSmsReceiver();
    h = await startHarness({
      sms: { baseUrl: sms.url, accountSid: 'AC0123456789', authToken: 'token-0123456789', from: '+15005550006', targets: { allowedHosts: ['127.0.0.1'] } },
    });
  });
  afterAll(async () => {
    await h?.stop();
    await sms?.close();
  });

  const definition = {
    steps: [
      {
        id: 'hello', type: 'send_message', channel: 'preferred', fallback: ['email', 'sms'],
        email: { subject: 'Hello {{ contact.firstName }}', text: 'Hello by email' }, sms: { text: 'Hello {{ contact.firstName }} by SMS' },
        next: 'after',
      },
      { id: 'after', type: 'update_contact', addTags: ['greeted'] },
    ],
  };
  const enrol = async (key: string, contact: Record<string, unknown>) => {
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact });
    expect(enrolled.status).toBe(201);
    const { id, workflowId } = enrolled.body as { id: string; workflowId: string };
    expect(await h.result(workflowId)).toMatchObject({ status: 'completed' });
    const path = (await h.api('GET', `/v1/enrolments/${id}`)).body.path as Array<{ stepId: string; outcome: string; details: Record<string, unknown> }>;
    return path.find((p) => p.stepId === 'hello')!;
  };
  const smsTo = (number: string) => sms.received.filter((r) => r.form.To === number);

  it('sends on the preferred channel, else falls back in the stated order, recording which and why', async () => {
    const key = await h.publish(definition);
    const phone = `+1 (415) 555-${String(Date.now() % 10_000).padStart(4, '0')}`;
    const number = `+1415555${phone.slice(-4)}`;

    const bySms = await enrol(key, { email: uniqueEmail('sms'), firstName: 'Ada', phone, preferredChannel: 'sms' });
    expect(bySms).toMatchObject({ outcome: 'sent', details: { channel: 'sms', why: 'the contact prefers it', passedOver: [] } });
    const [request] = smsTo(number);
    expect(request).toMatchObject({ path: '/2010-04-01/Accounts/AC0123456789/Messages.json', form: { To: number, From: '+15005550006', Body: 'Hello Ada by SMS' } });
    expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('AC0123456789:token-0123456789').toString('base64')}`);

    const noPhone = uniqueEmail('nophone');
    expect(await enrol(key, { email: noPhone, firstName: 'Bo', preferredChannel: 'sms' }))
      .toMatchObject({ outcome: 'sent', details: { channel: 'email', why: 'fallback: sms no_address', passedOver: [{ channel: 'sms', reason: 'no_address' }] } });
    expect(h.smtp.to(noPhone).map((m) => m.parsed.subject)).toEqual(['Hello Bo']);

    const denied = uniqueEmail('denied');
    const deniedPhone = '+44 20 7946 0958';
    expect(await enrol(key, { email: denied, firstName: 'Cy', phone: deniedPhone, preferredChannel: 'sms', consents: [{ channel: 'sms', status: 'denied', source: 'test' }] }))
      .toMatchObject({ details: { channel: 'email', why: 'fallback: sms no_consent' } });
    expect(smsTo('+442079460958')).toEqual([]);

    // No preference: email first; without an address, SMS from the fallback list.
    expect(await enrol(key, { externalId: uniqueKey('crm'), firstName: 'Di', phone: '+33 1 23 45 67 89' }))
      .toMatchObject({ outcome: 'sent', details: { channel: 'sms', why: 'fallback: email no_address' } });
    expect(smsTo('+33123456789').map((r) => r.form.Body)).toEqual(['Hello Di by SMS']);

    // Nowhere to send: skipped, with every channel passed over.
    expect(await enrol(key, { externalId: uniqueKey('crm'), preferredChannel: 'sms' }))
      .toMatchObject({ outcome: 'skipped', details: { channel: null, reason: 'no_channel', passedOver: [{ channel: 'sms', reason: 'no_address' }, { channel: 'email', reason: 'no_address' }] } });
  });

  it('retries an SMS the provider failed with a 5xx, and records a 4xx without retrying', async () => {
    const key = await h.publish({ steps: [{ id: 'hello', type: 'send_message', channel: 'sms', sms: { text: 'Hi' }, next: 'after' }, { id: 'after', type: 'update_contact', addTags: ['x'] }] });
    sms.answerNext(500);
    const retried = await enrol(key, { externalId: uniqueKey('crm'), phone: '+49 30 1234567' });
    expect(retried).toMatchObject({ outcome: 'sent', details: { channel: 'sms' } });
    expect(smsTo('+49301234567').map((r) => r.answered)).toEqual([500, 201]);
    const [sent] = await h.database.db.select().from(outgoingSms).where(eq(outgoingSms.toNumber, '+49301234567'));
    expect(sent).toMatchObject({ status: 'sent', attempts: 2, body: 'Hi', fromNumber: '+15005550006' });

    sms.answerNext(400);
    const refused = await enrol(key, { externalId: uniqueKey('crm'), phone: '+49 30 7654321' });
    expect(refused).toMatchObject({ outcome: 'failed', details: { channel: 'sms', reason: "400 (code 21211): The 'To' number is not a valid phone number." } });
    expect(smsTo('+49307654321')).toHaveLength(1);
    const [failed] = await h.database.db.select().from(outgoingSms).where(eq(outgoingSms.toNumber, '+49307654321'));
    expect(failed).toMatchObject({ status: 'failed', attempts: 1 });
  });

  it('refuses at publish a channel the step has no content for', async () => {
    const key = uniqueKey();
    await h.api('POST', '/v1/journeys', { key, name: key, definition: { steps: [{ id: 'm', type: 'send_message', channel: 'preferred', fallback: ['email'], email: { subject: 'S', text: 'T' } }] } });
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(422);
    expect(JSON.stringify(published.body)).toContain('definition.steps[0].sms');
    expect(JSON.stringify(published.body)).toContain('the step may send on sms');
  });
});

import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** "HH:MM" of now plus `hours` in a time zone. */
function localTime(hours: number, timeZone: string): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' })
    .format(new Date(Date.now() + hours * 3_600_000));
}

/**
 * Quiet hours for every marketing send: the journey's sendingWindow, else the global one
 * (SENDING_WINDOW), in the contact's time zone. Outside it the send waits on a durable timer,
 * recorded as `send.delayed`; a goal during the wait ends the enrolment with nothing sent.
 */
describe('sending windows', () => {
  let h: Harness;
  // The global window opens two hours from now (UTC) and lasts an hour: closed now.
  const closedGlobal = { start: localTime(2, 'UTC'), end: localTime(3, 'UTC'), timezone: 'UTC' };
  beforeAll(async () => { h = await startHarness({ sendingWindow: closedGlobal }); });
  afterAll(async () => { await h?.stop(); });

  const send = { id: 'hello', type: 'send_email', subject: 'Hello', text: 'Hello' };
  const start = async (key: string, contact: Record<string, unknown>) => {
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact });
    expect(enrolled.status).toBe(201);
    return enrolled.body as { id: string; workflowId: string; contactId: string };
  };
  const pathOf = async (id: string) => (await h.api('GET', `/v1/enrolments/${id}`)).body.path as Array<{ action: string; details: Record<string, unknown> }>;

  it("sends at once inside the journey's window, in the contact's time zone, and waits outside it", async () => {
    // Open now in Tokyo, closed now in UTC (nine hours apart).
    const key = await h.publish({
      sendingWindow: { start: localTime(-1, 'Asia/Tokyo'), end: localTime(1, 'Asia/Tokyo'), timezone: 'UTC' },
      goal: { event: 'purchased' },
      steps: [send],
    });
    const tokyo = uniqueEmail('tokyo');
    const inside = await start(key, { email: tokyo, timezone: 'Asia/Tokyo' });
    expect(await h.result(inside.workflowId)).toMatchObject({ status: 'completed' });
    expect(h.smtp.to(tokyo)).toHaveLength(1);
    expect((await pathOf(inside.id)).map((p) => p.action)).not.toContain('send.delayed');

    const utc = uniqueEmail('utc');
    const outside = await start(key, { email: utc });
    const delayed = await eventually(async () => (await pathOf(outside.id)).find((p) => p.action === 'send.delayed'));
    expect(delayed.details.window).toBe(`${localTime(-1, 'Asia/Tokyo')}-${localTime(1, 'Asia/Tokyo')} UTC`);
    expect(Date.parse(delayed.details.until as string)).toBeGreaterThan(Date.now());
    await h.api('POST', '/v1/events', { contactId: outside.contactId, name: 'purchased', properties: {} });
    expect(await h.result(outside.workflowId)).toMatchObject({ status: 'converted' });
    expect(h.smtp.to(utc)).toEqual([]);
  });

  it('applies the global window to journeys without their own, and never to transactional email', async () => {
    const key = await h.publish({
      goal: { event: 'purchased' },
      steps: [
        { ...send, id: 'receipt', category: 'transactional', transactionalReason: 'order receipt', next: 'hello' },
        send,
      ],
    }, uniqueKey());
    const email = uniqueEmail('global');
    const run = await start(key, { email });
    const delayed = await eventually(async () => (await pathOf(run.id)).find((p) => p.action === 'send.delayed'));
    expect(delayed.details.window).toBe(`${closedGlobal.start}-${closedGlobal.end} UTC (global)`);
    expect(h.smtp.to(email)).toHaveLength(1);
    await h.api('POST', '/v1/events', { contactId: run.contactId, name: 'purchased', properties: {} });
    expect(await h.result(run.workflowId)).toMatchObject({ status: 'converted' });
    expect(h.smtp.to(email)).toHaveLength(1);
  });
});

/** whenCapped: delay holds an email the frequency cap refuses until the cap allows it; skip (the default) skips it. */
describe('the frequency cap, delaying instead of skipping', () => {
  let h: Harness;
  // One marketing email per 4 seconds: the second email of a journey hits the cap.
  beforeAll(async () => { h = await startHarness({ email: { frequencyCap: { count: 1, windowMs: 4_000 } } }); });
  afterAll(async () => { await h?.stop(); });

  const twoEmails = (whenCapped?: 'skip' | 'delay') => ({
    whenCapped,
    steps: [
      { id: 'first', type: 'send_email', subject: 'First', text: 'One', next: 'second' },
      { id: 'second', type: 'send_email', subject: 'Second', text: 'Two' },
    ],
  });
  const run = async (definition: unknown) => {
    const key = await h.publish(definition);
    const email = uniqueEmail('capped');
    const enrolled = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email } })).body as { id: string; workflowId: string };
    expect(await h.result(enrolled.workflowId)).toMatchObject({ status: 'completed' });
    const path = (await h.api('GET', `/v1/enrolments/${enrolled.id}`)).body.path as Array<{ stepId: string; action: string; outcome: string; details: Record<string, unknown> }>;
    return { path, subjects: h.smtp.to(email).map((m) => m.parsed.subject) };
  };

  it('delays the capped email to the next allowed moment', async () => {
    const { path, subjects } = await run(twoEmails('delay'));
    expect(subjects).toEqual(['First', 'Second']);
    expect(path.find((p) => p.action === 'send.delayed')).toMatchObject({ stepId: 'second', details: { reason: 'frequency_cap', window: null } });
    expect(path.filter((p) => p.action === 'email.sent').map((p) => p.stepId)).toEqual(['first', 'second']);
  });

  it('skips it by default, and a step may say otherwise than its journey', async () => {
    const skipped = await run(twoEmails());
    expect(skipped.subjects).toEqual(['First']);
    expect(skipped.path.find((p) => p.stepId === 'second' && p.action === 'email.skipped')).toMatchObject({ details: { reason: 'frequency_cap' } });

    const definition = twoEmails('skip');
    (definition.steps[1] as Record<string, unknown>).whenCapped = 'delay';
    expect((await run(definition)).subjects).toEqual(['First', 'Second']);
  });
});

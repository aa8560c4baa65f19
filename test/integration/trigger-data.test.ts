import { eventually, startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { startWebhookReceiver } from '../support/webhook-receiver';

/**
 * The event that started an enrolment is `trigger.*` in its conditions and templates for the
 * whole enrolment, and a branch right after a wait_for_event reads that event as `event.*`:
 * activities read both by id in PostgreSQL, so neither enters the Temporal history.
 */
describe('trigger data in every step', () => {
  let h: Harness;
  let receiver: Awaited<ReturnType<typeof startWebhookReceiver>>;
  beforeAll(async () => {
    h = await startHarness();
    receiver = await startWebhookReceiver(TEST_SECRETS.webhook);
  });
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  const historyText = async (workflowId: string) => JSON.stringify(await h.client.workflow.getHandle(workflowId).fetchHistory(),
    (key, value: unknown) => (key === 'data' && typeof value === 'string' ? Buffer.from(value, 'base64').toString('utf8') : value));
  const tagsOf = async (contactId: string) => (await h.api('GET', `/v1/contacts/${contactId}`)).body.tags as string[];

  it('sends the ebook named in the download event and branches on its properties', async () => {
    const event = uniqueKey('ebook_downloaded');
    const ebook = `The Pricing Playbook ${Date.now()}`;
    await h.publish({
      trigger: { type: 'event', event },
      steps: [
        { id: 'ebook', type: 'send_email', subject: 'Your copy of {{ trigger.properties.ebook }}', text: 'Download {{ trigger.properties.ebook }} ({{ trigger.name }}).', html: '<p>{{ trigger.properties.ebook }}</p>', next: 'format' },
        { id: 'format', type: 'branch', cases: [{ condition: { field: 'trigger.properties.format', op: 'eq', value: 'pdf' }, next: 'pdf' }], default: 'other' },
        { id: 'pdf', type: 'update_contact', addTags: ['reads-pdf'], next: 'tell' },
        { id: 'other', type: 'update_contact', addTags: ['reads-other'] },
        { id: 'tell', type: 'notify', url: `${receiver.url}/hook`, body: { ebook: '{{ trigger.properties.ebook }}', format: '{{ trigger.properties.format }}' } },
      ],
    });
    const email = uniqueEmail('reader');
    const sent = await h.api('POST', '/v1/events', { contact: { email }, name: event, properties: { ebook, format: 'pdf' } });
    expect(sent.status).toBe(202);
    expect(sent.body.enrolled).toHaveLength(1);
    const enrolment = (await h.api('GET', `/v1/enrolments/${sent.body.enrolled[0]}`)).body as { workflowId: string; contactId: string; triggerEventId: string };
    expect(enrolment.triggerEventId).toBe(sent.body.id);
    expect(await h.result(enrolment.workflowId)).toMatchObject({ status: 'completed' });

    const [message] = await eventually(async () => (h.smtp.to(email).length ? h.smtp.to(email) : undefined));
    expect(message!.parsed.subject).toBe(`Your copy of ${ebook}`);
    expect(message!.parsed.text).toContain(`Download ${ebook} (${event}).`);
    expect(message!.parsed.html).toContain(ebook);
    expect(await tagsOf(enrolment.contactId)).toEqual(['reads-pdf']);
    expect(receiver.received.map((r) => r.json)).toEqual([{ ebook, format: 'pdf' }]);
    expect(await historyText(enrolment.workflowId)).not.toContain(ebook);

    // Another download of another format takes the other case.
    const other = uniqueEmail('reader');
    const second = await h.api('POST', '/v1/events', { contact: { email: other }, name: event, properties: { ebook, format: 'epub' } });
    const row = (await h.api('GET', `/v1/enrolments/${second.body.enrolled[0]}`)).body as { workflowId: string; contactId: string };
    expect(await h.result(row.workflowId)).toMatchObject({ status: 'completed' });
    expect(await tagsOf(row.contactId)).toEqual(['reads-other']);
  });

  it('lets the goal and a wait_for_event read trigger.* too', async () => {
    const event = uniqueKey('signed_up');
    await h.publish({
      trigger: { type: 'event', event },
      goal: { event: 'purchased', condition: { field: 'trigger.properties.plan', op: 'eq', value: 'pro' } },
      steps: [{ id: 'hold', type: 'wait_for_event', event: 'activated', condition: { field: 'trigger.properties.plan', op: 'eq', value: 'basic' }, timeout: '1h' }],
    });
    const start = async (plan: string) => {
      const sent = await h.api('POST', '/v1/events', { contact: { email: uniqueEmail('plan') }, name: event, properties: { plan } });
      return (await h.api('GET', `/v1/enrolments/${sent.body.enrolled[0]}`)).body as { id: string; workflowId: string; contactId: string };
    };
    const pro = await start('pro');
    const basic = await start('basic');
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${basic.id}`)).body.currentStep === 'hold');
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${pro.id}`)).body.currentStep === 'hold');
    // A purchase converts only the pro sign-up; an activation ends only the basic one's wait.
    await h.api('POST', '/v1/events', { contactId: basic.contactId, name: 'purchased', properties: {} });
    await h.api('POST', '/v1/events', { contactId: pro.contactId, name: 'purchased', properties: {} });
    expect(await h.result(pro.workflowId)).toMatchObject({ status: 'converted' });
    await h.api('POST', '/v1/events', { contactId: basic.contactId, name: 'activated', properties: {} });
    expect(await h.result(basic.workflowId)).toMatchObject({ status: 'completed', path: [{ stepId: 'hold', outcome: 'received' }] });
  });

  it('lets a branch right after a wait_for_event read the event it received', async () => {
    const key = await h.publish({
      steps: [
        { id: 'trial', type: 'wait_for_event', event: 'trial_started', timeout: '1h', next: 'plan' },
        { id: 'plan', type: 'branch', cases: [{ condition: { field: 'event.properties.plan', op: 'eq', value: 'team' }, next: 'team' }], default: 'solo' },
        { id: 'team', type: 'update_contact', addTags: ['team-trial'] },
        { id: 'solo', type: 'update_contact', addTags: ['solo-trial'] },
      ],
    });
    const run = async (plan: string) => {
      const enrolled = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('trial') } })).body as { id: string; workflowId: string; contactId: string };
      await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolled.id}`)).body.currentStep === 'trial');
      await h.api('POST', '/v1/events', { contactId: enrolled.contactId, name: 'trial_started', properties: { plan } });
      await h.result(enrolled.workflowId);
      return tagsOf(enrolled.contactId);
    };
    expect(await run('team')).toEqual(['team-trial']);
    expect(await run('individual')).toEqual(['solo-trial']);
  });

  it('refuses at publish, 422 naming the step and field, names that do not exist there', async () => {
    const publish = async (definition: unknown) => {
      const key = uniqueKey();
      expect((await h.api('POST', '/v1/journeys', { key, name: key, definition })).status).toBe(201);
      return h.api('POST', `/v1/journeys/${key}/publish`);
    };
    const noTrigger = await publish({
      steps: [
        { id: 'mail', type: 'send_email', subject: 'Your {{ trigger.properties.ebook }}', text: 'Hi', next: 'b' },
        { id: 'b', type: 'branch', cases: [{ condition: { field: 'trigger.properties.format', op: 'eq', value: 'pdf' } }] },
      ],
    });
    expect(noTrigger.status).toBe(422);
    expect(JSON.stringify(noTrigger.body)).toContain('definition.steps[0].subject');
    expect(JSON.stringify(noTrigger.body)).toContain('definition.steps[1].cases[0].condition');
    expect(JSON.stringify(noTrigger.body)).toContain('trigger.* fields are only available in journeys with an event trigger');

    const noEvent = await publish({
      steps: [
        { id: 'w', type: 'wait_for_event', event: 'trial_started', timeout: '1h', next: 'plan', onTimeout: 'plan' },
        { id: 'plan', type: 'branch', cases: [{ condition: { field: 'event.properties.plan', op: 'eq', value: 'team' } }] },
      ],
    });
    expect(noEvent.status).toBe(422);
    expect(JSON.stringify(noEvent.body)).toContain('definition.steps[1].cases[0].condition');
    expect(JSON.stringify(noEvent.body)).toContain('step \\"plan\\": event.* fields are only available');
  });
});

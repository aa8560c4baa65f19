import { eq } from 'drizzle-orm';
import { auditRecords, contacts, outgoingEmails } from '../../db/schema';
import { ContactId, EnrolmentStatusKey, JourneyKey, JourneyStep } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** The thin journey through every layer: HTTP → Postgres → Temporal → SMTP → Postgres. */
describe('a journey end to end', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const definition = {
    steps: [
      {
        id: 'welcome', type: 'send_email',
        subject: 'Welcome, {{ contact.firstName | default: "friend" }}',
        text: 'Hello {{ contact.firstName }} from {{ contact.attributes.company }}.',
        html: '<p>Hello <b>{{ contact.firstName }}</b></p>',
        next: 'pause',
      },
      { id: 'pause', type: 'wait', duration: '2s', next: 'mark' },
      { id: 'mark', type: 'update_contact', addTags: ['welcomed'], scoreDelta: 10, set: { lifecycleStage: 'lead' } },
    ],
  };

  it('sends the email, waits, updates the contact, audits each step and completes', async () => {
    const key = uniqueKey('welcome');
    const email = uniqueEmail('ada');
    const contact = await h.api('POST', '/v1/contacts', { email, firstName: 'Ada', attributes: { company: 'Analytical' } });
    expect(contact.status).toBe(201);

    expect((await h.api('POST', '/v1/journeys', { key, name: 'Welcome', definition })).status).toBe(201);
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(201);
    expect(published.body.version).toBe(1);

    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
    expect(enrolled.status).toBe(201);
    expect(enrolled.body.workflowId).toBe(`journey:${key}:${contact.body.id}`);

    // While it waits, the enrolment shows the wait as its current step and the run is searchable.
    const waiting = await eventually(async () => {
      const r = await h.api('GET', `/v1/enrolments/${enrolled.body.id}`);
      return r.body.currentStep === 'pause' && r.body.status === 'running' ? r : undefined;
    });
    expect(waiting.body.path.map((p: { action: string }) => p.action)).toEqual(['enrolment.started', 'email.sent', 'wait.started']);

    const handle = h.client.workflow.getHandle(enrolled.body.workflowId);
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.path.map((p: { stepId: string }) => p.stepId)).toEqual(['welcome', 'pause', 'mark']);

    // The email reached a real SMTP server, personalised.
    const received = h.smtp.to(email);
    expect(received).toHaveLength(1);
    expect(received[0]!.parsed.subject).toBe('Welcome, Ada');
    expect(received[0]!.parsed.text).toContain('Hello Ada from Analytical.');
    expect(received[0]!.parsed.html).toContain('<b>Ada</b>');
    const [ledger] = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.contactId, contact.body.id));
    expect(ledger!.status).toBe('sent');
    expect(ledger!.idempotencyKey).toBe(`${enrolled.body.workflowId}:welcome:1`);
    expect(received[0]!.parsed.messageId).toBe(ledger!.providerMessageId);

    // The contact row changed in Postgres.
    const [row] = await h.database.db.select().from(contacts).where(eq(contacts.id, contact.body.id));
    expect(row!.tags).toEqual(['welcomed']);
    expect(row!.score).toBe(10);
    expect(row!.lifecycleStage).toBe('lead');

    // Every step left an audit record, keyed by workflow id + step id.
    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolled.body.id)).orderBy(auditRecords.id);
    expect(audit.map((a) => [a.action, a.stepId])).toEqual([
      ['enrolment.started', null], ['email.sent', 'welcome'], ['wait.started', 'pause'],
      ['contact.updated', 'mark'], ['enrolment.completed', null],
    ]);
    expect(audit[1]!.providerMessageId).toBe(ledger!.providerMessageId);
    expect(audit[3]!.idempotencyKey).toBe(`${enrolled.body.workflowId}:mark:1`);

    const final = await h.api('GET', `/v1/enrolments/${enrolled.body.id}`);
    expect(final.body).toMatchObject({ status: 'completed', currentStep: null, journeyVersion: 1 });
    expect(final.body.endedAt).not.toBeNull();

    // Operators find and read the run in the Temporal UI: search attributes and a summary.
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(JourneyKey)).toBe(key);
    expect(description.typedSearchAttributes.get(ContactId)).toBe(contact.body.id);
    // JourneyStep names where the enrolment rests or last rested (the wait), not passing actions.
    expect(description.typedSearchAttributes.get(JourneyStep)).toBe('pause');
    expect(description.typedSearchAttributes.get(EnrolmentStatusKey)).toBe('completed');
    expect(await description.staticSummary()).toContain(`${key} v1`);
    const found = await eventually(async () => {
      const ids: string[] = [];
      for await (const wf of h.client.workflow.list({ query: `JourneyKey = '${key}' AND ContactId = '${contact.body.id}'` })) ids.push(wf.workflowId);
      return ids.length ? ids : undefined;
    });
    expect(found).toEqual([enrolled.body.workflowId]);

    // Emails go through their own, rate-limited task queue; every activity has an explicit id.
    const history = await handle.fetchHistory();
    const scheduled = history.events!.filter((e) => e.activityTaskScheduledEventAttributes)
      .map((e) => e.activityTaskScheduledEventAttributes!);
    expect(scheduled.find((a) => a.activityType?.name === 'sendEmail')!.taskQueue!.name).toBe(`${h.taskQueue}-email`);
    expect(scheduled.map((a) => a.activityId)).toEqual(['welcome:1:send', 'mark:1:update']);
    // Audit writes run as local activities (markers in the history), behind patch markers: one
    // per step, the last step's record and the end record together (4 records, 3 markers); and
    // one where the marketing email asks when its sending window is open (patch sending-window),
    // in the same workflow task.
    const markers = history.events!.filter((e) => e.markerRecordedEventAttributes).map((e) => e.markerRecordedEventAttributes!.markerName);
    expect(markers.filter((m) => m === 'core_local_activity')).toHaveLength(4);
    expect(markers).toContain('core_patch');
  });

  it('enrols an inline contact, upserting it by email', async () => {
    const key = uniqueKey('inline');
    await h.api('POST', '/v1/journeys', { key, name: 'Inline', definition: { steps: [{ ...definition.steps[0], next: undefined }] } });
    expect((await h.api('POST', `/v1/journeys/${key}/publish`)).status).toBe(201);
    const email = uniqueEmail('grace');
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email, firstName: 'Grace' } });
    expect(enrolled.status).toBe(201);
    await h.client.workflow.getHandle(enrolled.body.workflowId).result();
    expect(h.smtp.to(email).map((m) => m.parsed.subject)).toEqual(['Welcome, Grace']);
    const contact = await h.api('GET', `/v1/contacts/${enrolled.body.contactId}`);
    expect(contact.body).toMatchObject({ email, firstName: 'Grace' });
  });
});

describe('operations', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const value = (text: string, line: RegExp) => Number(text.split('\n').find((l) => line.test(l))?.split(' ').pop() ?? 0);

  it('metrics move when journeys run', async () => {
    const before = await (await fetch(`${h.baseUrl}/metrics`)).text();
    const key = await h.publish({ steps: [{ id: 'hi', type: 'send_email', subject: 'Hi', text: 'x' }] });
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('metrics') } });
    await h.result(e.body.workflowId);
    const after = await (await fetch(`${h.baseUrl}/metrics`)).text();
    expect(value(after, new RegExp(`^nurture_enrolments_started_total\\{journey="${key}"`))).toBe(1);
    const sent = /^nurture_steps_executed_total\{type="send_email",outcome="sent"\}/;
    expect(value(after, sent)).toBeGreaterThan(value(before, sent));
    expect(value(after, /^nurture_emails_total\{status="sent",reason=""\}/)).toBeGreaterThan(0);
    expect(after).toMatch(/^nurture_api_requests_total\{method="POST",route="\/v1\/journeys\/:key\/enrolments",status="201"\} \d+/m);
    expect(after).toMatch(/^nurture_tasks_open \d+/m);
  });

  it('readyz checks the database and Temporal', async () => {
    const ready = await h.api('GET', '/readyz', undefined, { authorization: '' });
    expect(ready.body).toEqual({ status: 'ok', checks: { database: 'ok', temporal: 'ok' } });
  });
});

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { eq } from 'drizzle-orm';
import { auditRecords, outgoingEmails } from '../../db/schema';
import { eventually, startHarness, TEST_SECRETS, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { runAutomation, type AutomationDeps } from '../../services/processes/automations';
import { setUp } from '../support/review-process';
import { enrolmentsOf, publishSegment } from '../support/segments';
import { startWebhookReceiver } from '../support/webhook-receiver';

const JOURNEY = { steps: [{ id: 'rest', type: 'wait', duration: '1h' }] };
type Audit = { action: string; actor: string; taskId: string | null; outcome: string; details: Record<string, unknown> };

/** Automations on the real stack: the shipped campaign launch gating a journey's publish, and actions on the world outside the run. */
describe('process automations', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function person(roles: string[], scopes = ['approver']) {
    const created = await h.api('POST', '/v1/users', { email: uniqueEmail('person'), name: 'Person', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'person', scopes, userId: created.body.id });
    return { id: created.body.id as string, email: created.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  async function publishProcess(definition: unknown, key = uniqueKey('process')) {
    expect((await h.api('POST', '/v1/processes', { key, name: 'Automated', definition })).status).toBe(201);
    const published = await h.api('POST', `/v1/processes/${key}/publish`);
    if (published.status !== 201) throw new Error(JSON.stringify(published.body));
    return key;
  }
  const exportOf = async (processKey: string, runId: string) => (await h.api('GET', `/v1/processes/${processKey}/runs/${runId}/export?format=json`)).body;

  it('the campaign launch example gates a journey\'s publish: the version goes live when the content approval approves, not before, and not by its author', async () => {
    const author = await person(['marketing', 'marketing-lead'], ['admin']);
    const writer = await person(['marketing']);
    const lead = await person(['marketing-lead']);
    const brand = await person(['brand']);
    await person(['legal']);
    const definition = JSON.parse(readFileSync(path.join(__dirname, '../../docs/examples/campaign-launch.process.json'), 'utf8'));
    const processKey = await publishProcess(definition, uniqueKey('campaign-launch'));

    const journeyKey = uniqueKey('spring-sale');
    expect((await h.api('POST', '/v1/journeys', { key: journeyKey, name: 'Spring sale', definition: JOURNEY }, author.auth)).status).toBe(201);
    expect((await h.api('PUT', `/v1/journeys/${journeyKey}/review-policy`, { process: processKey })).status).toBe(200);
    const started = await h.api('POST', `/v1/journeys/${journeyKey}/publish`, undefined, author.auth);
    expect(started.status).toBe(202);
    const { runId } = started.body;
    const base = `/v1/processes/${processKey}/runs/${runId}`;
    const act = (task: string, body: unknown, auth: Record<string, string>) => h.api('POST', `${base}/tasks/${task}/complete`, body, auth);
    const statusOf = async (task: string) => (await h.api('GET', base)).body.tasks.find((t: { taskId: string }) => t.taskId === task).status;
    const live = async () => (await h.api('GET', `/v1/journeys/${journeyKey}`)).body.latestVersion;

    // The run's input `journey` is the journey under review; the checklist is worked through by its people.
    await eventually(async () => (await statusOf('brief')) === 'open');
    expect((await act('brief', { action: 'complete', values: { audience: 'Existing customers', claims: false } }, writer.auth)).status).toBe(200);
    await eventually(async () => (await statusOf('segment-review')) === 'open');
    expect((await act('segment-review', { action: 'complete' }, writer.auth)).status).toBe(200);
    await eventually(async () => (await statusOf('content-approval')) === 'open');
    expect(await statusOf('legal-review')).toBe('skipped');
    expect(await live()).toBeNull();

    // Four eyes: the author holds marketing-lead but cannot approve their own draft.
    const own = await act('content-approval', { action: 'approve' }, author.auth);
    expect(own.status).toBe(403);
    expect(own.body.error.code).toBe('four_eyes');
    // All of: one approval is not enough, and nothing is live.
    expect((await act('content-approval', { action: 'approve' }, lead.auth)).status).toBe(200);
    expect(await statusOf('content-approval')).toBe('open');
    expect(await live()).toBeNull();
    expect((await h.api('GET', `/v1/journeys/${journeyKey}/reviews`)).body.reviews[0].outcome).toBe('pending');

    // The second approval approves it: the automation publishes exactly the reviewed draft, while the run goes on.
    expect((await act('content-approval', { action: 'approve' }, brand.auth)).status).toBe(200);
    expect(await eventually(live)).toBe(1);
    expect((await h.api('GET', `/v1/journeys/${journeyKey}/reviews`)).body.reviews[0]).toMatchObject({ runId, outcome: 'published', publishedVersion: 1 });
    expect((await h.api('GET', base)).body.status).toBe('running');
    await eventually(async () => (await statusOf('launch')) === 'open');

    expect((await act('launch', { action: 'complete' }, writer.auth)).status).toBe(200);
    expect(await h.result(`process:${processKey}:${runId}`)).toMatchObject({ status: 'completed' });
    expect(await live()).toBe(1);

    // The chain proves the order: approved, then the automation published, then the launch; published once.
    const exported = await exportOf(processKey, runId);
    expect(exported.verification.ok).toBe(true);
    const actions = (exported.audit as Audit[]).map((r) => `${r.action}:${r.taskId ?? ''}`);
    const at = (a: string) => actions.indexOf(a);
    expect(at('process.approval_approved:content-approval')).toBeGreaterThan(-1);
    expect(at('journey.review_published:')).toBeGreaterThan(at('process.approval_approved:content-approval'));
    expect(at('process.automation_done:content-approval')).toBeGreaterThan(at('journey.review_published:'));
    expect(at('process.task_opened:launch')).toBeGreaterThan(at('process.automation_done:content-approval'));
    expect(actions.filter((a) => a.startsWith('journey.review_'))).toEqual(['journey.review_requested:', 'journey.review_published:']);
    // The record says who published, and that the run was still going then.
    expect((exported.audit as Audit[]).find((r) => r.action === 'journey.review_published')!.details)
      .toMatchObject({ runStatus: 'running', byTask: 'content-approval' });
    expect((exported.audit as Audit[]).find((r) => r.action === 'process.automation_done')!.details)
      .toMatchObject({ index: 0, on: 'approved', type: 'publish_journey', journey: journeyKey, version: 1, reviewed: true });
  });

  it('pauses a journey, calls a webhook and sends internal and contact email when a task is done; a permanent failure is recorded and the run goes on', async () => {
    // The receiver fails the first delivery (503): a transient error, retried with backoff.
    const receiver = await startWebhookReceiver(TEST_SECRETS.webhook, [503]);
    try {
      const role = uniqueKey('ops');
      const ops = await person([role]);
      const journeyKey = await h.publish(JOURNEY);
      const template = uniqueKey('launch-mail');
      expect((await h.api('POST', '/v1/templates', {
        key: template, subject: 'Launch of {{ run.inputs.campaign }}', text: 'Audience: {{ task.brief.values.audience }}',
      })).status).toBe(201);
      const partner = uniqueEmail('partner');
      const contact = await h.api('POST', '/v1/contacts', { email: partner });
      expect(contact.status).toBe(201);
      const stranger = uniqueEmail('stranger');

      const processKey = await publishProcess({
        inputs: [{ name: 'campaign', label: 'Campaign', type: 'text', required: true }],
        sections: [{ title: 'Go', tasks: [
          { id: 'brief', kind: 'form', title: 'Brief', fields: [
            { name: 'audience', label: 'Audience', type: 'text', required: true },
            { name: 'partner', label: 'Partner email', type: 'text' }, { name: 'stranger', label: 'Someone', type: 'text' },
            { name: 'journey', label: 'Journey to stop', type: 'text' },
          ], automations: [
            { on: 'done', do: { type: 'webhook', url: `${receiver.url}/launch`, body: { campaign: '{{ run.inputs.campaign }}', audience: '{{ task.brief.values.audience }}' } } },
            { on: 'done', do: { type: 'send_email', template, to: { role } } },
            { on: 'done', do: { type: 'send_email', template, to: { from: 'task.brief.values.partner' } } },
            { on: 'done', do: { type: 'pause_journey', journey: { from: 'task.brief.values.journey' } } },
            { on: 'done', do: { type: 'pause_journey', journey: journeyKey } },
            { on: 'done', do: { type: 'send_email', template, to: { from: 'task.brief.values.stranger' } } },
          ] },
          { id: 'wrap-up', kind: 'checklist', title: 'Wrap up', after: ['brief'] },
        ] }],
      });
      const run = (await h.api('POST', `/v1/processes/${processKey}/runs`, { inputs: { campaign: 'Winter' } })).body;
      const base = `/v1/processes/${processKey}/runs/${run.id}`;
      await eventually(async () => (await h.api('GET', base)).body.tasks[0].status === 'open');
      expect((await h.api('GET', `/v1/journeys/${journeyKey}`)).body.status).toBe('active');
      const values = { audience: 'Early birds', partner, stranger, journey: 'no-such-journey' };
      expect((await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete', values }, ops.auth)).status).toBe(200);

      // The run goes on past a failed automation: the next task opens.
      await eventually(async () => (await h.api('GET', base)).body.tasks[1].status === 'open');
      expect(receiver.delivered()).toHaveLength(1);
      expect(receiver.received.map((r) => r.answered)).toEqual([503, 200]);
      const hook = receiver.delivered()[0]!;
      expect(hook.signatureValid).toBe(true);
      expect(hook.json).toEqual({ campaign: 'Winter', audience: 'Early birds' });
      expect(hook.headers['idempotency-key']).toBe(`${run.workflowId}:brief:automation:0`);

      const internal = await eventually(async () => h.smtp.to(ops.email)[0]);
      expect(internal.parsed.subject).toBe('Launch of Winter');
      expect(String(internal.parsed.text)).toContain('Audience: Early birds');
      expect(internal.raw).not.toMatch(/^List-Unsubscribe:/m);
      // Mail to a contact is marketing mail: consent checked, with its one-click unsubscribe.
      const contactMail = await eventually(async () => h.smtp.to(partner)[0]);
      expect(contactMail.raw).toMatch(/^List-Unsubscribe:\s+<http/m);
      expect(h.smtp.to(stranger)).toEqual([]);
      expect((await h.api('GET', `/v1/journeys/${journeyKey}`)).body.status).toBe('paused');
      const ledger = await h.database.db.select().from(outgoingEmails).where(eq(outgoingEmails.idempotencyKey, `${run.workflowId}:brief:automation:2:${contact.body.id}`));
      expect(ledger[0]).toMatchObject({ category: 'marketing', status: 'sent' });

      expect((await h.api('POST', `${base}/tasks/wrap-up/complete`, { action: 'complete' }, ops.auth)).status).toBe(200);
      expect(await h.result(run.workflowId)).toMatchObject({ status: 'completed' });
      const audit = (await exportOf(processKey, run.id)).audit as Audit[];
      const automations = audit.filter((r) => r.action.startsWith('process.automation_'));
      expect(automations.map((r) => `${r.action}:${r.details.index}:${r.details.type}`)).toEqual([
        'process.automation_done:0:webhook', 'process.automation_done:1:send_email', 'process.automation_done:2:send_email',
        'process.automation_failed:3:pause_journey', 'process.automation_done:4:pause_journey', 'process.automation_done:5:send_email',
      ]);
      expect(automations[3]!.details).toMatchObject({ code: 'journey_not_found', error: expect.stringContaining('no-such-journey') });
      expect(automations[1]!.details).toMatchObject({ to: 'internal', recipients: 1, sent: 1 });
      expect(automations[5]!.details).toMatchObject({ to: 'contact', sent: 0, skipped: ['not_a_contact'] });
      // No address goes into the chain.
      expect(JSON.stringify(automations)).not.toContain(partner);
      const paused = await h.database.db.select().from(auditRecords).where(eq(auditRecords.journeyKey, journeyKey));
      expect(paused.filter((r) => r.action === 'journey.paused').map((r) => r.actor)).toEqual([`process:${run.id}`]);
    } finally {
      await receiver.close();
    }
  });

  it('enrols a segment in a journey and updates its contacts, once each', async () => {
    const tag = uniqueKey('vip');
    const ids: string[] = [];
    for (let i = 0; i < 2; i += 1) ids.push((await h.api('POST', '/v1/contacts', { email: uniqueEmail('vip'), tags: [tag], score: 10 })).body.id);
    const segment = await publishSegment(h, { tag });
    const journeyKey = await h.publish(JOURNEY);
    const processKey = await publishProcess({ sections: [{ title: 'Go', tasks: [{ id: 'go', kind: 'checklist', title: 'Go', automations: [
      { on: 'done', do: { type: 'enrol_segment', segment, journey: journeyKey } },
      { on: 'done', do: { type: 'update_contacts', segment, addTags: ['launched'], scoreDelta: 5 } },
    ] }] }] });
    const approver = await person([]);
    const run = (await h.api('POST', `/v1/processes/${processKey}/runs`, {})).body;
    const base = `/v1/processes/${processKey}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.tasks[0].status === 'open');
    expect((await h.api('POST', `${base}/tasks/go/complete`, { action: 'complete' }, approver.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toMatchObject({ status: 'completed' });

    // The activity retried (as after a worker died before reporting): nobody is enrolled or changed twice, nothing recorded twice.
    const deps = { db: h.database.db, temporal: h.client, taskQueue: h.taskQueue } as unknown as AutomationDeps;
    for (const [index, automation] of [
      { on: 'done' as const, do: { type: 'enrol_segment' as const, segment, journey: journeyKey } },
      { on: 'done' as const, do: { type: 'update_contacts' as const, segment, addTags: ['launched'], scoreDelta: 5 } },
    ].entries()) {
      const again = await runAutomation(deps, { runId: run.id, workflowId: run.workflowId, processKey, taskId: 'go', taskStatus: 'done', index, automation, inputs: {}, tasks: {} });
      expect(again.outcome).toBe('done');
    }
    for (const id of ids) {
      expect(await enrolmentsOf(h, journeyKey, id)).toHaveLength(1);
      const [enrolment] = await enrolmentsOf(h, journeyKey, id);
      expect(enrolment).toMatchObject({ idempotencyKey: `${run.workflowId}:go:automation:0:${id}`, status: 'running' });
      const contact = (await h.api('GET', `/v1/contacts/${id}`)).body;
      expect(contact.tags.filter((t: string) => t === 'launched')).toHaveLength(1);
      expect(contact.score).toBe(15);
    }
    const audit = (await exportOf(processKey, run.id)).audit as Audit[];
    expect(audit.filter((r) => r.action === 'process.automation_done').map((r) => r.details)).toEqual([
      expect.objectContaining({ type: 'enrol_segment', members: 2, created: 2, existing: 0, failed: 0 }),
      expect.objectContaining({ type: 'update_contacts', members: 2, applied: 2 }),
    ]);
  });

  it('publishes a journey by key, and starts the review of one under a review policy instead of publishing it', async () => {
    const open = uniqueKey('open');
    const guarded = uniqueKey('guarded');
    for (const key of [open, guarded]) expect((await h.api('POST', '/v1/journeys', { key, name: key, definition: JOURNEY })).status).toBe(201);
    const reviewer = await person([]);
    const review = await publishProcess({ sections: [{ title: 'R', tasks: [{ id: 'ok', kind: 'approval', title: 'OK', approvers: [{ userId: reviewer.id }] }] }] });
    expect((await h.api('PUT', `/v1/journeys/${guarded}/review-policy`, { process: review })).status).toBe(200);
    const processKey = await publishProcess({ sections: [{ title: 'Go', tasks: [{ id: 'go', kind: 'checklist', title: 'Go', automations: [
      { on: 'done', do: { type: 'publish_journey', journey: open } },
      { on: 'done', do: { type: 'publish_journey', journey: guarded } },
      { on: 'done', do: { type: 'publish_journey' } },
    ] }] }] });
    const run = (await h.api('POST', `/v1/processes/${processKey}/runs`, {})).body;
    const base = `/v1/processes/${processKey}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.tasks[0].status === 'open');
    expect((await h.api('POST', `${base}/tasks/go/complete`, { action: 'complete' }, reviewer.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toMatchObject({ status: 'completed' });

    expect((await h.api('GET', `/v1/journeys/${open}`)).body.latestVersion).toBe(1);
    expect((await h.api('GET', `/v1/journeys/${guarded}`)).body.latestVersion).toBeNull();
    const reviews = (await h.api('GET', `/v1/journeys/${guarded}/reviews`)).body.reviews;
    expect(reviews).toEqual([expect.objectContaining({ processKey: review, outcome: 'pending', requestedBy: `process:${run.id}` })]);
    const audit = ((await exportOf(processKey, run.id)).audit as Audit[]).filter((r) => r.action.startsWith('process.automation_'));
    expect(audit.map((r) => r.action)).toEqual(['process.automation_done', 'process.automation_done', 'process.automation_failed']);
    expect(audit[1]!.details).toMatchObject({ reviewRequested: { processKey: review, runId: reviews[0].runId } });
    expect(audit[2]!.details).toMatchObject({ code: 'no_journey' });
    await h.client.workflow.getHandle(`process:${review}:${reviews[0].runId}`).terminate('test over');
  });

  it('refuses at publish (422) automations naming what is not there, naming the task and field', async () => {
    const problemsOf = async (tasks: unknown[]) => {
      const key = uniqueKey('process');
      await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { sections: [{ title: 'S', tasks }] } });
      const refused = await h.api('POST', `/v1/processes/${key}/publish`);
      expect(refused.status).toBe(422);
      return (refused.body.error.details.problems as Array<{ path: string }>).map((p) => p.path).sort();
    };
    const key = uniqueKey('process');
    const tasks = [
      { id: 'a', kind: 'checklist', title: 'A', automations: [
        { on: 'done', do: { type: 'publish_journey', journey: 'no-such-journey' } },
        { on: 'done', do: { type: 'webhook', url: 'http://10.0.0.7/hook' } },
        { on: 'done', do: { type: 'send_email', template: 'no-such-template', to: { role: 'nobody-has-this' } } },
        { on: 'done', do: { type: 'enrol_segment', segment: 'no-such-segment', journey: 'no-such-journey' } },
      ] },
    ];
    await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { sections: [{ title: 'S', tasks }] } });
    const refused = await h.api('POST', `/v1/processes/${key}/publish`);
    expect(refused.status).toBe(422);
    const problems = refused.body.error.details.problems as Array<{ path: string; stepId: string; message: string }>;
    const at = 'definition.sections[0].tasks[0].automations';
    expect(problems.map((p) => p.path).sort()).toEqual([
      `${at}[0].do.journey`, `${at}[1].do.url`, `${at}[2].do.template`, `${at}[2].do.to`, `${at}[3].do.journey`, `${at}[3].do.segment`,
    ]);
    for (const p of problems) expect(p).toMatchObject({ stepId: 'a', message: expect.stringMatching(/^task "a": automations\[\d\]\.do\./) });

    // A template whose only version waits for its review is no template to send yet.
    const { processKey: reviewKey } = await setUp(h);
    const pending = uniqueKey('pending-template');
    expect((await h.api('PUT', `/v1/templates/${pending}/review-policy`, { process: reviewKey })).status).toBe(200);
    expect((await h.api('POST', '/v1/templates', { key: pending, subject: 'Hi', text: 'Hello' })).status).toBe(202);
    const recipient = await person([]);
    expect(await problemsOf([{ id: 'c', kind: 'checklist', title: 'C', automations: [
      { on: 'done', do: { type: 'send_email', template: pending, to: { user: recipient.email } } },
    ] }])).toEqual(['definition.sections[0].tasks[0].automations[0].do.template']);

    // Checks over the task's place: an approval's outcome on a checklist, references the run cannot fill.
    const refs = await problemsOf([
      { id: 'b', kind: 'checklist', title: 'B', automations: [
        { on: 'approved', do: { type: 'pause_journey', journey: { from: 'run.inputs.nope' } } },
        { on: 'done', do: { type: 'send_email', template: 't', to: { from: 'task.later.values.email' } } },
      ] },
      { id: 'later', kind: 'form', title: 'Later', fields: [{ name: 'email', label: 'Email', type: 'text' }] },
    ]);
    expect(refs).toEqual([
      'definition.sections[0].tasks[0].automations[0].do.journey', 'definition.sections[0].tasks[0].automations[0].on',
      'definition.sections[0].tasks[0].automations[1].do.to',
    ]);
    // The schema: an unknown action, a URL that is no web address.
    expect(await problemsOf([{ id: 'c', kind: 'checklist', title: 'C', automations: [
      { on: 'done', do: { type: 'launch_rockets' } }, { on: 'done', do: { type: 'webhook', url: 'file:///etc/passwd' } },
    ] }])).toEqual(['definition.sections[0].tasks[0].automations[0].do.type', 'definition.sections[0].tasks[0].automations[1].do.url']);
  });
});

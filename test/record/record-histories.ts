/**
 * Records histories of representative journeys from the real server into test/histories/, for
 * the replay test. Run `npm run histories:record` after adding a step type or behaviour, review
 * the new files, and commit them. Never re-record to make a failing replay pass: a failing
 * replay means running enrolments would break (see "Changing workflow code safely" in README).
 */
import { existsSync, writeFileSync } from 'node:fs';
import { eq } from 'drizzle-orm';
import { tasks } from '../../db/schema';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { assign } from '../../journey-language';
import { provisionTemporalCli } from '../../runtime/temporal-dev-server';
import { testEnvironment } from '../support/env';
import { eventually, startHarness, TEST_SECRETS, uniqueEmail, type Harness } from '../support/harness';
import { approverUser } from '../support/process-people';
import { decide, setUp } from '../support/review-process';
import { startWebhookReceiver } from '../support/webhook-receiver';

const OUT = path.join(__dirname, '..', 'histories');

const journeys: Record<string, { definition: unknown; events?: Array<{ name: string; properties?: Record<string, unknown> }> }> = {
  'email-wait-update': {
    definition: { steps: [
      { id: 'hello', type: 'send_email', subject: 'Hi {{ contact.firstName }}', text: 'Hello', next: 'pause' },
      { id: 'pause', type: 'wait', duration: '1s', next: 'mark' },
      { id: 'mark', type: 'update_contact', addTags: ['welcomed'], scoreDelta: 1 },
    ] },
  },
  'wait-for-event-branch-split-goal': {
    definition: {
      goal: { event: 'purchased' },
      exits: [{ event: 'unsubscribed' }],
      steps: [
        { id: 'await', type: 'wait_for_event', event: 'trial_started', timeout: '30s', next: 'check', onTimeout: 'check' },
        { id: 'check', type: 'branch', cases: [{ condition: { field: 'contact.score', op: 'gte', value: 10 }, next: 'ab' }], default: 'ab' },
        { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 1, next: 'quiet' }, { id: 'b', weight: 1, next: 'quiet' }] },
        { id: 'quiet', type: 'wait', until: { between: { start: '00:00', end: '23:59' } }, next: 'hold' },
        { id: 'hold', type: 'wait', duration: '1h' },
      ],
    },
    events: [{ name: 'trial_started' }, { name: 'purchased' }],
  },
};

/** Writes a finished run's history beside the older ones (never over one: a second recording the same day gets `.2`). */
function save(name: string, workflowId: string): void {
  // The CLI writes the history as proto JSON, the format the Web UI downloads and replay reads.
  const json = execFileSync(provisionTemporalCli(), [
    'workflow', 'show', '--workflow-id', workflowId, '--output', 'json', '--address', testEnvironment().temporalAddress,
  ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const day = new Date().toISOString().slice(0, 10);
  let file = path.join(OUT, `${name}.${day}.json`);
  for (let n = 2; existsSync(file); n++) file = path.join(OUT, `${name}.${day}.${n}.json`);
  writeFileSync(file, json.trim() + '\n');
}

/** `RECORD_ONLY=a,b npm run histories:record` records only those scenarios. */
const only = process.env.RECORD_ONLY?.split(',').map((n) => n.trim()).filter(Boolean);
const recording = (name: string) => (only && !only.includes(name) ? it.skip : it);

/** The next UTC minute at least 15 s away, as "HH:MM" (a time-of-day wait that really sleeps). */
function nextMinuteUtc(): string {
  const at = new Date(Math.ceil((Date.now() + 15_000) / 60_000) * 60_000);
  return `${String(at.getUTCHours()).padStart(2, '0')}:${String(at.getUTCMinutes()).padStart(2, '0')}`;
}

describe('record histories', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  for (const [name, { definition, events = [] }] of Object.entries(journeys)) {
    recording(name)(name, async () => {
      const key = await h.publish(definition);
      const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(name) } });
      for (const event of events) {
        await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolled.body.id}`)).body.currentStep !== null);
        await new Promise((r) => setTimeout(r, 300));
        await h.api('POST', '/v1/events', { contactId: enrolled.body.contactId, ...event });
      }
      await h.result(enrolled.body.workflowId);
      save(name, enrolled.body.workflowId);
    });
  }

  recording('approval-owner-notify')('approval-owner-notify', async () => {
    const receiver = await startWebhookReceiver(TEST_SECRETS.webhook);
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [] });
    const apiKey = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    const key = await h.publish({ steps: [
      { id: 'owner', type: 'assign_owner', pool: ['ana@sales.test', 'ben@sales.test'], next: 'approve' },
      { id: 'approve', type: 'approval', title: 'Offer a discount?', assignee: { user: user.body.email }, expireAfter: '1h',
        fields: [{ name: 'discount', type: 'number', label: 'Discount', min: 0, max: 40 }], onApprove: 'check', onReject: 'tell' },
      { id: 'check', type: 'branch', cases: [{ condition: { field: 'approval.approve.values.discount', op: 'gte', value: 10 }, next: 'tell' }], default: 'tell' },
      { id: 'tell', type: 'notify', url: `${receiver.url}/hook`, body: { email: '{{ contact.email }}' }, next: 'done' },
      { id: 'done', type: 'exit', reason: 'told the owner' },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('approval') } });
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolled.body.id)))[0]);
    const done = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { discount: 15 } }, { authorization: `Bearer ${apiKey.body.key}` });
    expect(done.status).toBe(200);
    await h.result(enrolled.body.workflowId);
    expect(receiver.delivered()).toHaveLength(1);
    await receiver.close();
    save('approval-owner-notify', enrolled.body.workflowId);
  });

  recording('task-handoff')('task-handoff', async () => {
    // The first seller lets the task time out; the next in the pool accepts with a value the branch reads.
    const [ana, ben] = await Promise.all(['ana', 'ben'].map((n) => h.api('POST', '/v1/users', { email: uniqueEmail(n), name: n, roles: [] })));
    const benKey = await h.api('POST', '/v1/api-keys', { name: 'ben', scopes: ['approver'], userId: ben!.body.id });
    const key = await h.publish({ steps: [
      { id: 'handoff', type: 'task', title: 'Call the lead', assignee: { pool: [ana!.body.email, ben!.body.email] }, acceptWithin: '2s', onTimeout: 'next',
        fields: [{ name: 'meeting', type: 'checkbox', label: 'Meeting booked?' }], onAccepted: 'check', onRejected: 'done', onNoAnswer: 'done' },
      { id: 'check', type: 'branch', cases: [{ condition: { field: 'approval.handoff.values.meeting', op: 'eq', value: true }, next: 'won' }], default: 'done' },
      { id: 'won', type: 'update_contact', addTags: ['meeting'] },
      { id: 'done', type: 'exit', reason: 'handed off' },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('handoff') } });
    const second = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolled.body.id))).find((t) => t.assigneeUserId === ben!.body.id));
    const done = await h.api('POST', `/v1/tasks/${second.id}/complete`, { decision: 'approve', values: { meeting: true } }, { authorization: `Bearer ${benKey.body.key}` });
    expect(done.status).toBe(200);
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'completed' });
    save('task-handoff', enrolled.body.workflowId);
  });

  recording('task-acceptance')('task-acceptance', async () => {
    // The pool's turn: ana is reminded and lets it time out; ben accepts, then declines; ana accepts and completes it.
    const people = await Promise.all(['ana', 'ben'].map(async (n) => {
      const user = await h.api('POST', '/v1/users', { email: uniqueEmail(n), name: n, roles: [] });
      const key = await h.api('POST', '/v1/api-keys', { name: n, scopes: ['approver'], userId: user.body.id });
      return { id: user.body.id as string, email: user.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
    }));
    const [ana, ben] = people as [typeof people[0], typeof people[0]];
    const key = await h.publish({ steps: [
      { id: 'handoff', type: 'task', title: 'Call the lead', assignee: { pool: [ana.email, ben.email] }, poolKey: `record-${Date.now()}`,
        acceptWithin: '3s', remindAfter: '1s', completeWithin: '1h', onTimeout: 'next', onDecline: 'next', maxReassignments: 2,
        fields: [{ name: 'meeting', type: 'checkbox', label: 'Meeting booked?' }], onAccepted: 'check', onRejected: 'done', onNoAnswer: 'done' },
      { id: 'check', type: 'branch', cases: [{ condition: { field: 'approval.handoff.values.meeting', op: 'eq', value: true }, next: 'won' }], default: 'done' },
      { id: 'won', type: 'update_contact', addTags: ['meeting'] },
      { id: 'done', type: 'exit', reason: 'handed off' },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('handoff') } });
    const nth = (n: number) => eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolled.body.id)).orderBy(tasks.createdAt))[n]);
    const second = await nth(1);
    expect((await h.api('POST', `/v1/tasks/${second.id}/accept`, undefined, ben.auth)).status).toBe(200);
    expect((await h.api('POST', `/v1/tasks/${second.id}/complete`, { decision: 'reject' }, ben.auth)).status).toBe(200);
    const third = await nth(2);
    expect((await h.api('POST', `/v1/tasks/${third.id}/accept`, undefined, ana.auth)).status).toBe(200);
    expect((await h.api('POST', `/v1/tasks/${third.id}/complete`, { decision: 'approve', values: { meeting: true } }, ana.auth)).status).toBe(200);
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'completed' });
    save('task-acceptance', enrolled.body.workflowId);
  });

  recording('state-goal')('state-goal', async () => {
    const key = await h.publish({
      goal: { condition: { field: 'contact.lifecycleStage', op: 'eq', value: 'customer' } },
      exits: [{ condition: { tag: 'churned' }, reason: 'churned' }],
      steps: [{ id: 'hold', type: 'wait', duration: '1h' }],
    });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('state') } });
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolled.body.id}`)).body.currentStep === 'hold');
    // A change that reaches no state, then one that reaches the goal.
    await h.api('PATCH', `/v1/contacts/${enrolled.body.contactId}`, { firstName: 'Ada' });
    await h.api('PATCH', `/v1/contacts/${enrolled.body.contactId}`, { lifecycleStage: 'customer' });
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'converted' });
    save('state-goal', enrolled.body.workflowId);
  });

  recording('sending-window-message')('sending-window-message', async () => {
    // The window opens at the next UTC minute: both sends wait for it on a durable timer.
    const start = nextMinuteUtc();
    const [hh, mm] = start.split(':').map(Number);
    const close = (hh! * 60 + mm! + 2) % 1440;
    const end = `${String(Math.floor(close / 60)).padStart(2, '0')}:${String(close % 60).padStart(2, '0')}`;
    const key = await h.publish({ sendingWindow: { start, end, timezone: 'UTC' }, steps: [
      { id: 'hello', type: 'send_message', channel: 'preferred', fallback: ['email', 'sms'], email: { subject: 'Hi', text: 'Hello' }, sms: { text: 'Hi' }, next: 'again' },
      { id: 'again', type: 'send_email', subject: 'Again', text: 'Hello again' },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('window'), timezone: 'UTC' } });
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'completed' });
    const path = (await h.api('GET', `/v1/enrolments/${enrolled.body.id}`)).body.path as Array<{ action: string }>;
    expect(path.map((p) => p.action)).toContain('send.delayed');
    save('sending-window-message', enrolled.body.workflowId);
  });

  recording('time-of-day-wait')('time-of-day-wait', async () => {
    const key = await h.publish({ steps: [
      { id: 'morning', type: 'wait', until: { at: nextMinuteUtc(), timezone: 'UTC' }, next: 'mark' },
      { id: 'mark', type: 'update_contact', addTags: ['woke'] },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('morning') } });
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'completed' });
    save('time-of-day-wait', enrolled.body.workflowId);
  });

  recording('approval-remind-escalate-expire')('approval-remind-escalate-expire', async () => {
    const approver = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [] });
    const manager = await h.api('POST', '/v1/users', { email: uniqueEmail('manager'), name: 'Manager', roles: [] });
    const key = await h.publish({ steps: [
      { id: 'approve', type: 'approval', title: 'Send the offer?', assignee: { user: approver.body.email }, escalateTo: { user: manager.body.email },
        remindAfter: '2s', escalateAfter: '4s', expireAfter: '6s', onApprove: 'yes', onReject: 'no', onExpire: 'late' },
      { id: 'yes', type: 'update_contact', addTags: ['approved'] },
      { id: 'no', type: 'update_contact', addTags: ['rejected'] },
      { id: 'late', type: 'update_contact', addTags: ['expired'] },
    ] });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('approval') } });
    const result = await h.result(enrolled.body.workflowId);
    expect(result.path.map((p: { outcome: string }) => p.outcome)).toEqual(['expired', 'updated']);
    save('approval-remind-escalate-expire', enrolled.body.workflowId);
  });

  recording('holdout')('holdout', async () => {
    const key = await h.publish({
      goal: { event: 'purchased' },
      steps: [
        { id: 'ab', type: 'split', variants: [{ id: 'a', weight: 1, next: 'mail' }], holdout: { weight: 1, duration: '3s' } },
        { id: 'mail', type: 'send_email', subject: 'Offer', text: 'Offer' },
      ],
    });
    // A contact the deterministic assignment puts in the holdout.
    for (;;) {
      const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('holdout') });
      if (assign(`${key}:ab:${contact.body.id}`, [{ id: 'a', weight: 1 }, { id: 'holdout', weight: 1 }]).id !== 'holdout') continue;
      const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contactId: contact.body.id });
      expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'completed', variant: 'holdout' });
      save('holdout', enrolled.body.workflowId);
      return;
    }
  });

  recording('goal-mid-wait')('goal-mid-wait', async () => {
    const key = await h.publish({
      goal: { event: 'demo_booked' },
      steps: [
        { id: 'hello', type: 'send_email', subject: 'Hello', text: 'Hello', next: 'pause' },
        { id: 'pause', type: 'wait', duration: '1h', next: 'nudge' },
        { id: 'nudge', type: 'send_email', subject: 'Still there?', text: 'Nudge' },
      ],
    });
    const enrolled = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('goal') } });
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${enrolled.body.id}`)).body.currentStep === 'pause');
    await new Promise((r) => setTimeout(r, 1_000));
    await h.api('POST', '/v1/events', { contactId: enrolled.body.contactId, name: 'demo_booked' });
    expect(await h.result(enrolled.body.workflowId)).toMatchObject({ status: 'converted' });
    save('goal-mid-wait', enrolled.body.workflowId);
  });

  recording('test-run-compressed')('test-run-compressed', async () => {
    const key = await h.publish({ steps: [
      { id: 'welcome', type: 'send_email', subject: 'Welcome', text: 'Hi', next: 'day' },
      { id: 'day', type: 'wait', duration: '1d', next: 'demo' },
      { id: 'demo', type: 'wait_for_event', event: 'demo_booked', timeout: '3d', next: 'tag', onTimeout: 'tag' },
      { id: 'tag', type: 'update_contact', addTags: ['tried'] },
    ] });
    const run = await h.api('POST', `/v1/journeys/${key}/test-runs`, {
      contacts: [{ ref: 'alice' }], events: [{ ref: 'alice', name: 'demo_booked', after: '36h' }], timeScale: 86_400, waitSeconds: 30,
    });
    expect(run.body.status).toBe('finished');
    save('test-run-compressed', run.body.contacts[0].workflowId);
    save('test-run-script', `test:${run.body.id}:script`);
  });

  recording('process-run')('process-run', async () => {
    const [ada, ben] = [await approverUser(h), await approverUser(h)];
    const key = `process-${Date.now()}`;
    await h.api('POST', '/v1/processes', { key, name: 'Launch', definition: { sections: [
      { title: 'Prepare', tasks: [
        { id: 'brief', kind: 'form', title: 'Brief', assignee: { user: ada.email }, fields: [{ name: 'claims', label: 'Claims?', type: 'checkbox' }] },
        { id: 'assets', kind: 'checklist', title: 'Assets', due: { after: '1s' } },
      ] },
      { title: 'Review', tasks: [
        { id: 'legal', kind: 'approval', title: 'Legal', approvers: [{ user: ben.email }], when: { field: 'task.brief.values.claims', op: 'eq', value: true } },
        { id: 'signoff', kind: 'approval', mode: 'all_of', stop: true, title: 'Sign-off', approvers: [{ user: ada.email }, { user: ben.email }], after: ['brief'] },
      ] },
      { title: 'Launch', tasks: [{ id: 'launch', kind: 'checklist', title: 'Launch' }] },
    ] } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    const act = async (task: string, body: unknown, who: { authorization: string }) => {
      await eventually(async () => (await h.api('GET', base)).body.tasks.find((t: { taskId: string }) => t.taskId === task).status === 'open');
      expect((await h.api('POST', `${base}/tasks/${task}/complete`, body, who)).status).toBe(200);
    };
    await act('brief', { action: 'complete', values: { claims: false } }, ada.auth);
    await eventually(async () => (await h.api('GET', base)).body.progress.overdue.includes('assets'));
    await act('signoff', { action: 'approve' }, ada.auth);
    await act('signoff', { action: 'approve' }, ben.auth);
    await act('assets', { action: 'complete' }, ben.auth);
    await act('launch', { action: 'complete' }, ada.auth);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 4, total: 4 });
    save('process-run', run.workflowId);
  });

  /** A review run under a publish policy, approved by a second person after four eyes refused the author. */
  async function recordReview(name: string, start: (processKey: string, author: { authorization: string }) => Promise<string>) {
    const { processKey, author, reviewer } = await setUp(h);
    const runId = await start(processKey, author.auth);
    const base = `/v1/processes/${processKey}/runs/${runId}`;
    await eventually(async () => (await h.api('GET', base)).body.tasks[0].status === 'open');
    expect((await decide(h, processKey, runId, 'approve', author.auth)).status).toBe(403);
    expect((await decide(h, processKey, runId, 'approve', reviewer.auth)).status).toBe(200);
    expect(await h.result(`process:${processKey}:${runId}`)).toEqual({ status: 'completed', done: 1, total: 1 });
    save(name, `process:${processKey}:${runId}`);
  }

  recording('journey-review')('journey-review', () => recordReview('journey-review', async (processKey, author) => {
    const key = `reviewed-${Date.now()}`;
    await h.api('POST', '/v1/journeys', { key, name: 'Reviewed', definition: { steps: [{ id: 'rest', type: 'wait', duration: '1h' }] } }, author);
    await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: processKey });
    return (await h.api('POST', `/v1/journeys/${key}/publish`, undefined, author)).body.runId;
  }));

  recording('template-review')('template-review', () => recordReview('template-review', async (processKey, author) => {
    const key = `reviewed-${Date.now()}`;
    await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: processKey });
    return (await h.api('POST', '/v1/templates', { key, subject: 'Hi', text: 'Hello {{ contact.firstName }}' }, author)).body.review.runId;
  }));

  recording('process-stages')('process-stages', async () => {
    const [ada, ben] = [await approverUser(h), await approverUser(h)];
    const key = `process-stages-${Date.now()}`;
    await h.api('POST', '/v1/processes', { key, name: 'Stages', definition: { sections: [
      { title: 'Review', tasks: [
        { id: 'content', kind: 'approval', mode: 'sequential', stop: true, title: 'Content', stages: [
          { approvers: [{ user: ada.email }] },
          { mode: 'any_of', approvers: [{ roundRobin: { users: [ben.email] } }] },
        ] },
        { id: 'launch', kind: 'checklist', title: 'Launch', assignee: { roundRobin: { users: [ada.email, ben.email] } } },
      ] },
    ] } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    const act = async (task: string, stage: number | null, body: unknown, who: { authorization: string }) => {
      await eventually(async () => (await h.api('GET', base)).body.tasks.find((t: { taskId: string; status: string; stage: number | null }) => t.taskId === task && t.status === 'open' && t.stage === stage));
      expect((await h.api('POST', `${base}/tasks/${task}/complete`, body, who)).status).toBe(200);
    };
    await act('content', 1, { action: 'approve' }, ada.auth);
    await act('content', 2, { action: 'approve' }, ben.auth);
    // The rotation's first turn: ada.
    await act('launch', null, { action: 'complete' }, ada.auth);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });
    save('process-stages', run.workflowId);
  });

  recording('process-timers')('process-timers', async () => {
    // Reminders, an escalation that lets carl decide for ben, and a business-day due time.
    const [ada, ben, carl] = [await approverUser(h), await approverUser(h), await approverUser(h)];
    const key = `process-${Date.now()}`;
    await h.api('POST', '/v1/processes', { key, name: 'Clocks', definition: { sections: [{ title: 'Gate', tasks: [
      { id: 'signoff', kind: 'approval', title: 'Sign-off', approvers: [{ user: ben.email }], escalate: { after: '2s', to: { user: carl.email } },
        due: { after: '1d', businessDays: { timezone: 'Europe/Berlin' } } },
      { id: 'check', kind: 'checklist', title: 'Check', assignee: { user: ada.email }, remind: { every: '1s', max: 2 } },
    ] }] } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', `${base}/export`)).body.audit.some((r: { action: string }) => r.action === 'process.task_escalated'));
    await eventually(async () => (await h.api('GET', `${base}/export`)).body.checklist[1].reminders === 2);
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, carl.auth)).status).toBe(200);
    expect((await h.api('POST', `${base}/tasks/check/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });
    save('process-timers', run.workflowId);
  });
});

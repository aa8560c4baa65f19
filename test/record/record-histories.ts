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
import { provisionTemporalCli } from '../../runtime/temporal-dev-server';
import { testEnvironment } from '../support/env';
import { eventually, startHarness, TEST_SECRETS, uniqueEmail, type Harness } from '../support/harness';
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

describe('record histories', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  for (const [name, { definition, events = [] }] of Object.entries(journeys)) {
    it(name, async () => {
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

  it('approval-owner-notify', async () => {
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
});

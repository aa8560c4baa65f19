/**
 * Records histories of representative journeys from the real server into test/histories/, for
 * the replay test. Run `npm run histories:record` after adding a step type or behaviour, review
 * the new files, and commit them. Never re-record to make a failing replay pass: a failing
 * replay means running enrolments would break (see "Changing workflow code safely" in README).
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { execFileSync } from 'node:child_process';
import { provisionTemporalCli } from '../../runtime/temporal-dev-server';
import { testEnvironment } from '../support/env';
import { eventually, startHarness, uniqueEmail, type Harness } from '../support/harness';

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
      // The CLI writes the history as proto JSON, the format the Web UI downloads and replay reads.
      const json = execFileSync(provisionTemporalCli(), [
        'workflow', 'show', '--workflow-id', enrolled.body.workflowId, '--output', 'json', '--address', testEnvironment().temporalAddress,
      ], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
      // New recordings sit beside the old ones: old histories stand for enrolments still running old code.
      writeFileSync(path.join(OUT, `${name}.${new Date().toISOString().slice(0, 10)}.json`), json.trim() + '\n');
    });
  }
});

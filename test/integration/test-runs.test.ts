import { eq } from 'drizzle-orm';
import { auditRecords } from '../../db/schema';
import { startHarness, type Harness } from '../support/harness';

/** Test runs: a sandbox in compressed time, with scripted events, sending nothing real. */
describe('test runs', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('follows the expected paths with day-long waits in about a second each, and sends no real email', async () => {
    const key = await h.publish({
      goal: { event: 'purchased' },
      steps: [
        { id: 'welcome', type: 'send_email', subject: 'Welcome {{ contact.firstName }}', text: 'Hi', next: 'day' },
        { id: 'day', type: 'wait', duration: '1d', next: 'demo' },
        { id: 'demo', type: 'wait_for_event', event: 'demo_booked', timeout: '3d', next: 'booked', onTimeout: 'nudge' },
        { id: 'booked', type: 'notify', url: 'http://127.0.0.1:9/never-called', next: 'tag' },
        { id: 'tag', type: 'update_contact', addTags: ['demo'] },
        { id: 'nudge', type: 'send_email', subject: 'Still interested, {{ contact.firstName }}?', text: 'Book a demo' },
      ],
    });
    const started = Date.now();
    const run = await h.api('POST', `/v1/journeys/${key}/test-runs`, {
      contacts: [{ ref: 'alice', firstName: 'Alice' }, { ref: 'bob', firstName: 'Bob' }, { ref: 'carol', firstName: 'Carol' }],
      events: [{ ref: 'alice', name: 'demo_booked', after: '36h' }, { ref: 'carol', name: 'purchased', after: '12h' }],
      waitSeconds: 30,
    });
    expect(run.status).toBe(201);
    expect(run.body.status).toBe('finished');
    expect(Date.now() - started).toBeLessThan(15_000); // four journey days in seconds
    const byRef = Object.fromEntries(run.body.contacts.map((c: { ref: string }) => [c.ref, c]));
    const steps = (ref: string) => [...new Set(byRef[ref].path.map((p: { stepId: string }) => p.stepId))];
    expect(steps('alice')).toEqual(['welcome', 'day', 'demo', 'booked', 'tag']);
    expect(byRef.alice.path.find((p: { stepId: string }) => p.stepId === 'booked').outcome).toBe('sandboxed');
    expect(steps('bob')).toEqual(['welcome', 'day', 'demo', 'nudge']);
    expect(byRef.bob.emails.map((e: { subject: string; status: string }) => `${e.status}:${e.subject}`)).toEqual(['captured:Welcome Bob', 'captured:Still interested, Bob?']);
    expect(byRef.carol.status).toBe('converted');
    expect(h.smtp.messages.filter((m) => m.envelopeTo.some((t) => t.endsWith('@sandbox.invalid')))).toHaveLength(0);

    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, byRef.bob.enrolmentId));
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.every((a) => a.test)).toBe(true);
    const stats = await h.api('GET', `/v1/journeys/${key}/stats`);
    expect(stats.body.versions[0]).toMatchObject({ entered: 0, steps: [] });
    expect((await h.api('GET', `/v1/journeys/${key}/test-runs/${run.body.id}`)).body.contacts).toHaveLength(3);
    expect((await h.api('GET', `/v1/contacts?q=sandbox.invalid`)).body.contacts).toHaveLength(0);
  });

  it('runs the draft, and refuses scripted events for unknown contacts', async () => {
    const key = await h.publish({ steps: [{ id: 'a', type: 'update_contact', addTags: ['v1'] }] });
    await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: { steps: [{ id: 'b', type: 'update_contact', addTags: ['draft'] }] } });
    const run = await h.api('POST', `/v1/journeys/${key}/test-runs`, { version: 'draft', contacts: [{ ref: 'x' }] });
    expect(run.body.contacts[0].path.map((p: { stepId: string }) => p.stepId)).toEqual(['b']);
    const bad = await h.api('POST', `/v1/journeys/${key}/test-runs`, { contacts: [{ ref: 'x' }], events: [{ ref: 'y', name: 'e', after: '1h' }] });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems[0].path).toBe('body.events.0.ref');
  });
});

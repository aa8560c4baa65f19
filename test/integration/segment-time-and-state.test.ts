import { and, count, eq } from 'drizzle-orm';
import { contacts, enrolments } from '../../db/schema';
import { segmentsScheduleId, syncSegmentsSchedule } from '../../services/segments/schedules';
import { segmentRefreshWorkflow } from '../../workflows/contract';
import { enrolmentsOf as enrolmentsOfIn, publishSegment } from '../support/segments';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Membership that time alone changes (the segments Schedule), and goals and exits on contact state. */
describe('time-relative segments and state goals', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const enrolmentsOf = (journeyKey: string, contactId: string) => enrolmentsOfIn(h, journeyKey, contactId);

  const segment = (condition: unknown) => publishSegment(h, condition);

  /** Triggers one run of the Schedule and waits for it (a trigger right after the Schedule is created may be dropped: it asks again). */
  async function runSchedule(schedule: ReturnType<Harness['client']['schedule']['getHandle']>): Promise<void> {
    const before = (await schedule.describe()).info.recentActions.length;
    const action = await eventually(async () => {
      const actions = (await schedule.describe()).info.recentActions;
      if (actions.length > before) return actions.at(-1)!;
      await schedule.trigger();
      return undefined;
    });
    await h.client.workflow.getHandle(action.action.workflow.workflowId, action.action.workflow.firstExecutionRunId).result();
  }

  it('enrols a contact that time alone brings into a segment, through the Schedule, once', async () => {
    const tag = uniqueKey('expiring');
    const key = await segment({ all: [{ tag }, { field: 'contact.attributes.trialEndsAt', olderThan: '0s' }] });
    const journey = await h.publish({ trigger: { type: 'segment', segment: key }, entry: { reentry: 'always' }, steps: [{ id: 'done', type: 'exit', reason: 'expired' }] });
    const trialEndsAt = new Date(Date.now() + 1_500).toISOString();
    const contact = await h.api('POST', '/v1/contacts', { email: uniqueEmail('expiring'), tags: [tag], attributes: { trialEndsAt } });
    expect((await h.api('GET', `/v1/segments/${key}/contacts`)).body.count).toBe(0);

    await syncSegmentsSchedule({ temporal: h.client, taskQueue: h.taskQueue }, 3_600_000);
    const schedule = h.client.schedule.getHandle(segmentsScheduleId(h.taskQueue));
    try {
      await eventually(async () => Date.now() > Date.parse(trialEndsAt));
      await runSchedule(schedule);
      expect(await enrolmentsOf(journey, contact.body.id)).toHaveLength(1);
      expect((await h.api('GET', `/v1/segments/${key}/contacts`)).body.count).toBe(1);
      // Another run finds nothing new: no second enrolment.
      await runSchedule(schedule);
      expect(await enrolmentsOf(journey, contact.body.id)).toHaveLength(1);
    } finally {
      await schedule.delete();
    }
  });

  it('scans every contact a page at a time, continuing as new', async () => {
    const tag = uniqueKey('scan');
    const key = await segment({ tag });
    const member = await h.api('POST', '/v1/contacts', { email: uniqueEmail('scan') });
    await h.database.db.update(contacts).set({ tags: [tag] }).where(eq(contacts.id, member.body.id));
    const [all] = await h.database.db.select({ n: count() }).from(contacts);
    const pageSize = Math.min(500, Math.max(1, Math.ceil(all!.n / 3)));
    const handle = await h.client.workflow.start(segmentRefreshWorkflow, {
      workflowId: `${key}-scan`, taskQueue: h.taskQueue, args: [{ segmentKey: key, pageSize, pagesPerRun: 1 }],
    });
    const result = await handle.result();
    expect(result.scanned).toBeGreaterThanOrEqual(all!.n);
    expect(result.entered).toBe(1);
    const first = await h.client.workflow.getHandle(handle.workflowId, handle.firstExecutionRunId).describe();
    expect(first.status.name).toBe('CONTINUED_AS_NEW');
    expect((await h.api('GET', `/v1/segments/${key}/contacts`)).body.count).toBe(1);
  });

  it('converts a running enrolment when the contact reaches the goal state, and exits on an exit state', async () => {
    const tag = uniqueKey('churned');
    const journey = await h.publish({
      goal: { condition: { field: 'contact.lifecycleStage', op: 'eq', value: 'customer' } },
      exits: [{ condition: { tag }, reason: 'churned' }],
      steps: [{ id: 'hold', type: 'wait', duration: '1h' }],
    });
    const buyer = await h.api('POST', '/v1/contacts', { email: uniqueEmail('buyer') });
    const leaver = await h.api('POST', '/v1/contacts', { email: uniqueEmail('leaver') });
    const bought = await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contactId: buyer.body.id });
    const left = await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contactId: leaver.body.id });
    // A change that reaches neither state leaves the enrolment running.
    await h.api('PATCH', `/v1/contacts/${buyer.body.id}`, { firstName: 'Ada' });
    await eventually(async () => (await h.api('GET', `/v1/enrolments/${bought.body.id}`)).body.currentStep === 'hold');
    // Through the API, and through an event's inline contact.
    await h.api('PATCH', `/v1/contacts/${buyer.body.id}`, { lifecycleStage: 'customer' });
    await h.api('POST', '/v1/events', { contact: { email: leaver.body.email, tags: [tag] }, name: 'cancelled' });
    await expect(h.result(bought.body.workflowId)).resolves.toMatchObject({ status: 'converted', reason: 'goal state reached' });
    await expect(h.result(left.body.workflowId)).resolves.toMatchObject({ status: 'exited', reason: 'churned' });
  });
});

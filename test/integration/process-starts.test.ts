import { and, eq, sql } from 'drizzle-orm';
import { auditRecords, events, processRuns } from '../../db/schema';
import { MAX_PROCESSES_PER_EVENT } from '../../journey-language';
import { startProcessesOnEvent } from '../../services/processes/event-starts';
import { processScheduleId, startScheduledRun } from '../../services/processes/schedules';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Runs started by a process's Temporal Schedule and by events, on the real stack. */
describe('process starts', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const deps = () => ({ db: h.database.db, temporal: h.client, taskQueue: h.taskQueue });
  const runsOf = (key: string) => h.database.db.select().from(processRuns).where(eq(processRuns.processKey, key));
  const tasks = [{ title: 'Launch', tasks: [{ id: 'launch', kind: 'checklist', title: 'Launch' }] }];
  const campaignInput = { name: 'campaign', label: 'Campaign', type: 'text', required: true, maxLength: 40 };

  async function publish(definition: unknown, key = uniqueKey('process')) {
    const created = await h.api('POST', '/v1/processes', { key, name: 'Launch', definition });
    expect(created.status).toBe(201);
    const published = await h.api('POST', `/v1/processes/${key}/publish`);
    if (published.status !== 201) throw new Error(JSON.stringify(published.body));
    return key;
  }

  it('a Schedule starts exactly one run per scheduled time with its inputs; a start that cannot happen is skipped and recorded; DELETE stops it', async () => {
    const key = await publish({ inputs: [campaignInput], sections: tasks });
    const path = `/v1/processes/${key}/schedule`;
    const scheduleId = processScheduleId(key);

    const badInputs = await h.api('PUT', path, { every: '1h', inputs: { campaign: 7 } });
    expect(badInputs.status).toBe(422);
    expect(badInputs.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['body.inputs.campaign']);
    // A malformed request (both or neither of cron and every, a bad cron) is a 400 naming the field.
    for (const body of [{ cron: '0 9 * * 1', every: '1h' }, { inputs: {} }, { cron: 'every monday' }, { every: '500ms' }]) {
      const refused = await h.api('PUT', path, body);
      expect(refused.status).toBe(400);
      expect(refused.body.error.details.problems[0].path).toMatch(/^body\.(cron|every)$/);
    }
    expect((await h.api('GET', path)).status).toBe(404);

    const set = await h.api('PUT', path, { cron: '0 9 * * 1', timezone: 'Europe/Paris', inputs: { campaign: 'Weekly' } });
    expect(set.status).toBe(200);
    expect(set.body).toMatchObject({ scheduleId, cron: '0 9 * * 1', every: null, timezone: 'Europe/Paris', inputs: { campaign: 'Weekly' }, paused: false, overlap: 'buffer_one' });
    expect(set.body.nextRunTimes.length).toBeGreaterThan(0);
    // Mondays at 9:00 in Paris: 08:00 or 07:00 UTC.
    expect(new Date(set.body.nextRunTimes[0]).getUTCDay()).toBe(1);
    expect([7, 8]).toContain(new Date(set.body.nextRunTimes[0]).getUTCHours());

    const schedule = h.client.schedule.getHandle(scheduleId);
    async function triggerOnce(count: number) {
      await schedule.trigger();
      return eventually(async () => {
        const view = (await h.api('GET', path)).body;
        return view.recentStarts.length === count && view;
      });
    }
    const first = await triggerOnce(1);
    const firstRunId = first.recentStarts[0].runId;
    const run = await eventually(async () => { const r = await h.api('GET', `/v1/processes/${key}/runs/${firstRunId}`); return r.status === 200 && r.body; });
    expect(run.startedBy).toBe(`schedule:${scheduleId}`);
    expect((await runsOf(key))[0]!.inputs).toEqual({ campaign: 'Weekly' });
    await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${firstRunId}`)).body.tasks[0].status === 'open');

    // A retried start (the activity again, for the same scheduled workflow) finds the same run.
    const again = await startScheduledRun(deps(), { processKey: key, scheduleId, inputs: { campaign: 'Weekly' }, scheduledWorkflowId: first.recentStarts[0].workflowId });
    expect(again).toEqual({ outcome: 'started', runId: firstRunId });
    expect(await runsOf(key)).toHaveLength(1);

    // Scheduled times are to the second: the next trigger is another time, another run.
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const second = await triggerOnce(2);
    await eventually(async () => (await runsOf(key)).length === 2);
    expect(new Set((await runsOf(key)).map((r) => r.id))).toEqual(new Set(second.recentStarts.map((s: { runId: string }) => s.runId)));

    // The inputs no longer fit the latest version: the time's start is skipped and recorded, not retried forever.
    await h.api('PUT', `/v1/processes/${key}/draft`, { definition: { inputs: [campaignInput, { name: 'owner', label: 'Owner', type: 'text', required: true }], sections: tasks } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const third = await triggerOnce(3);
    const skippedWorkflow = third.recentStarts[2].workflowId;
    expect(await h.client.workflow.getHandle(skippedWorkflow).result()).toMatchObject({ outcome: 'skipped', reason: 'Owner is required' });
    expect(await runsOf(key)).toHaveLength(2);
    const skipped = await h.database.db.select().from(auditRecords)
      .where(and(eq(auditRecords.action, 'process.scheduled_start_skipped'), eq(auditRecords.workflowId, skippedWorkflow)));
    expect(skipped).toHaveLength(1);
    expect(skipped[0]!.details).toMatchObject({ processKey: key, code: 'invalid_inputs', reason: 'Owner is required' });

    // Set again (an update of the same Schedule): an interval, paused, the new version's inputs.
    const paused = await h.api('PUT', path, { every: '1d', inputs: { campaign: 'Weekly', owner: 'ops' }, paused: true, note: 'holiday' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ cron: null, every: '1d', timezone: 'UTC', inputs: { campaign: 'Weekly', owner: 'ops' }, paused: true, note: 'holiday' });
    expect(paused.body.recentStarts).toHaveLength(3);
    expect((await schedule.describe()).state.paused).toBe(true);

    // A process never published: the start is skipped and recorded as well.
    const unpublished = uniqueKey('process');
    await h.api('POST', '/v1/processes', { key: unpublished, name: 'Draft only', definition: { sections: tasks } });
    expect((await h.api('PUT', `/v1/processes/${unpublished}/schedule`, { every: '1d' })).status).toBe(409);
    const notPublished = await startScheduledRun(deps(), { processKey: unpublished, scheduleId: processScheduleId(unpublished), inputs: {}, scheduledWorkflowId: `process-schedule-run:${unpublished}-t` });
    expect(notPublished).toMatchObject({ outcome: 'skipped', reason: `The process "${unpublished}" has no published version yet` });
    expect(await runsOf(unpublished)).toHaveLength(0);

    const deleted = await h.api('DELETE', path);
    expect(deleted.status).toBe(200);
    expect((await h.api('GET', path)).status).toBe(404);
    expect((await h.api('DELETE', path)).status).toBe(404);
    await expect(schedule.describe()).rejects.toThrow();
    const audited = await h.database.db.select({ action: auditRecords.action }).from(auditRecords)
      .where(sql`${auditRecords.details}->>'scheduleId' = ${scheduleId} and ${auditRecords.action} in ('process.schedule_set', 'process.schedule_deleted')`);
    expect(audited.map((a) => a.action).sort()).toEqual(['process.schedule_deleted', 'process.schedule_set', 'process.schedule_set']);
  });

  it('an event starts exactly one run, also when posted twice; bad properties start none, are recorded and leave the event accepted', async () => {
    const event = uniqueKey('deal.won');
    const key = await publish({
      inputs: [campaignInput, { name: 'amount', label: 'Amount', type: 'number', min: 0 }],
      sections: tasks,
      startOn: { event, inputs: { campaign: 'event.properties.deal.name', amount: 'event.properties.amount' } },
    });
    const contact = { email: uniqueEmail('deal') };
    const post = (id: string, properties: Record<string, unknown>) => h.api('POST', '/v1/events', { id, contact, name: event, properties });

    const accepted = await post(`${event}-1`, { deal: { name: 'Spring' }, amount: 5, extra: 'ignored' });
    expect(accepted.status).toBe(202);
    expect(accepted.body.processRuns).toEqual([{ processKey: key, outcome: 'started', runId: expect.any(String) }]);
    const runId = accepted.body.processRuns[0].runId;
    const run = (await h.api('GET', `/v1/processes/${key}/runs/${runId}`)).body;
    expect(run.startedBy).toBe(`event:${accepted.body.id}`);
    expect((await runsOf(key)).map((r) => r.inputs)).toEqual([{ campaign: 'Spring', amount: 5 }]);

    // Posted again: a duplicate, nothing started; processed again (a redelivery half-way): the same run.
    const repeated = await post(`${event}-1`, { deal: { name: 'Spring' }, amount: 5 });
    expect(repeated.status).toBe(200);
    expect(repeated.body).toMatchObject({ duplicate: true, processRuns: [] });
    const [stored] = await h.database.db.select().from(events).where(eq(events.id, accepted.body.id));
    expect(await startProcessesOnEvent(deps(), stored!)).toEqual([{ processKey: key, outcome: 'started', runId }]);
    expect(await runsOf(key)).toHaveLength(1);

    // Untrusted properties: the wrong type, a missing required input, too long, not an object. No run, a record, the event accepted.
    for (const [id, properties, problem] of [
      [`${event}-2`, { deal: { name: 42 }, amount: 5 }, 'inputs.campaign'],
      [`${event}-3`, { amount: -1 }, 'inputs.campaign'],
      [`${event}-4`, { deal: { name: 'x'.repeat(41) } }, 'inputs.campaign'],
      [`${event}-5`, { deal: 'Spring', amount: { nested: 1 } }, 'inputs.amount'],
    ] as Array<[string, Record<string, unknown>, string]>) {
      const refused = await post(id, properties);
      expect(refused.status).toBe(202);
      expect(refused.body.processRuns).toHaveLength(1);
      expect(refused.body.processRuns[0]).toMatchObject({ processKey: key, outcome: 'refused', runId: null });
      expect(refused.body.processRuns[0].problems.map((p: { path: string }) => p.path)).toContain(problem);
      const records = await h.database.db.select().from(auditRecords)
        .where(and(eq(auditRecords.action, 'process.start_refused'), sql`${auditRecords.details}->>'eventId' = ${refused.body.id}`));
      expect(records).toHaveLength(1);
      expect(records[0]!.contactId).toBe(refused.body.contactId);
      expect(JSON.stringify(records[0]!.details)).not.toContain('x'.repeat(41));
    }
    expect(await runsOf(key)).toHaveLength(1);

    // Another event name starts nothing.
    expect((await h.api('POST', '/v1/events', { contact, name: `${event}-other`, properties: {} })).body.processRuns).toEqual([]);
  });

  it('startOn is checked at publish: mapped inputs, required inputs, its condition, and how many processes one event starts', async () => {
    const event = uniqueKey('signup');
    const refuse = async (startOn: unknown, inputs: unknown[] = [campaignInput]) => {
      const key = uniqueKey('process');
      await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { inputs, sections: tasks, startOn } });
      const published = await h.api('POST', `/v1/processes/${key}/publish`);
      expect(published.status).toBe(422);
      return published.body.error.details.problems.map((p: { path: string; message: string }) => `${p.path}: ${p.message}`);
    };
    expect(await refuse({ event, inputs: { campaign: 'event.properties.name', other: 'event.name' } }))
      .toEqual(['definition.startOn.inputs.other: "other" is not one of the process\'s inputs']);
    expect(await refuse({ event, inputs: {} })).toEqual(['definition.startOn.inputs: the required input "campaign" is not mapped from the event']);
    expect((await refuse({ event, inputs: { campaign: 'contact.email' } }))[0]).toMatch(/^definition\.startOn\.inputs\.campaign: an event input reads/);
    expect(await refuse({ event, inputs: { campaign: 'event.name' }, condition: { field: 'contact.email', op: 'exists' } }))
      .toEqual(['definition.startOn.condition: a start condition reads event.name and event.properties.* only']);

    // A condition: only large deals start a run.
    const big = await publish({ inputs: [campaignInput], sections: tasks, startOn: { event, inputs: { campaign: 'event.name' }, condition: { field: 'event.properties.amount', op: 'gt', value: 100 } } });
    const contact = { email: uniqueEmail('signup') };
    expect((await h.api('POST', '/v1/events', { contact, name: event, properties: { amount: 5 } })).body.processRuns).toEqual([]);
    const large = await h.api('POST', '/v1/events', { contact, name: event, properties: { amount: 500 } });
    expect(large.body.processRuns).toMatchObject([{ processKey: big, outcome: 'started' }]);
    expect((await runsOf(big))[0]!.inputs).toEqual({ campaign: event });

    // At most MAX_PROCESSES_PER_EVENT processes start on one event name.
    const crowded = uniqueKey('crowded');
    for (let i = 0; i < MAX_PROCESSES_PER_EVENT; i++) await publish({ sections: tasks, startOn: { event: crowded } });
    const one = await refuse({ event: crowded }, []);
    expect(one).toEqual([`definition.startOn.event: ${MAX_PROCESSES_PER_EVENT} processes start on "${crowded}" already, the most one event starts`]);
  });
});

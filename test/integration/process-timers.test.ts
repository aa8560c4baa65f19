import { resolveAssignee } from '../../services/processes/assignees';
import { Assignee, processRunStateQuery } from '../../workflows/contract';
import { eventually, startHarness, uniqueKey, type Harness } from '../support/harness';
import { approverUser, publishProcess } from '../support/process-people';

const DAY = 86_400_000;
const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;

/** Process task clocks on the real stack: reminders emailed and audited, an escalation that lets someone else act, a business-day due time. */
describe('process task reminders, escalation and business-day due dates', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const user = () => approverUser(h);
  const publish = (definition: unknown) => publishProcess(h, definition);
  const subjects = (address: string) => h.smtp.to(address).map((m) => m.parsed.subject);

  it('reminds the holders of an open task, and escalates an approval to someone who may then decide it', async () => {
    const [ada, ben, carl] = [await user(), await user(), await user()];
    const key = await publish({ sections: [{ title: 'Gate', tasks: [
      { id: 'signoff', kind: 'approval', title: 'Sign-off', approvers: [{ userId: ben.id }], escalate: { after: '4s', to: { user: carl.email } } },
      { id: 'check', kind: 'checklist', title: 'Check the list', assignee: { user: ada.email }, remind: { every: '1s', max: 2 } },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.tasks.every((t: { status: string }) => t.status === 'open'));

    // Before the escalation, carl may not decide.
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, carl.auth)).status).toBe(403);

    // Two reminders to ada (max 2), each emailed and audited once.
    await eventually(async () => subjects(ada.email).length >= 2);
    expect(subjects(ada.email)).toEqual(['Reminder: a task waits for you: Check the list', 'Reminder: a task waits for you: Check the list']);
    expect(h.smtp.to(ada.email)[0]!.parsed.text).toContain(`/processes/${key}/runs/${run.id}`);

    // The escalation: carl is told, holds the task (the Assignee search attribute), sees it in the inbox and may decide.
    await eventually(async () => subjects(carl.email).includes('A task was escalated to you: Sign-off'));
    await eventually(async () => (await h.client.workflow.getHandle(run.workflowId).describe()).typedSearchAttributes.get(Assignee) === carl.id);
    const inbox = (await h.api('GET', '/v1/tasks?source=process', undefined, carl.auth)).body.tasks as Array<{ runId: string; taskId: string }>;
    expect(inbox.filter((t) => t.runId === run.id).map((t) => t.taskId)).toEqual(['signoff']);
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, carl.auth)).status).toBe(200);
    const state = await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    expect(state.tasks.signoff!.status).toBe('approved');
    // ben's slot was the one carl filled: ben has nothing left to decide.
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, ben.auth)).status).toBe(409);

    // No third reminder: wait past when it would have gone out.
    await new Promise((r) => setTimeout(r, 1500));
    expect(subjects(ada.email)).toHaveLength(2);
    expect(subjects(ben.email)).toEqual([]);
    expect((await h.api('POST', `${base}/tasks/check/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });

    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.verification.ok).toBe(true);
    const actions = exported.audit.map((r: { action: string; taskId: string | null; details: { reminder?: number } }) => `${r.action}:${r.taskId}${r.details.reminder ? `:${r.details.reminder}` : ''}`);
    expect(actions.filter((a: string) => /reminded|escalated/.test(a))).toEqual(expect.arrayContaining([
      'process.task_reminded:check:1', 'process.task_reminded:check:2', 'process.task_escalated:signoff',
    ]));
    expect(actions.filter((a: string) => /reminded|escalated/.test(a))).toHaveLength(3);
    expect(exported.audit.find((r: { action: string }) => r.action === 'process.task_escalated').details).toMatchObject({ userIds: [carl.id], to: { user: carl.email } });
    expect(exported.checklist.map((t: { taskId: string; reminders: number; escalatedAt: string | null }) => [t.taskId, t.reminders, !!t.escalatedAt]))
      .toEqual([['signoff', 0, true], ['check', 2, false]]);
    expect(exported.checklist[0].decisions.map((d: { userId: string }) => d.userId)).toEqual([carl.id]);
    const page = await fetch(`${h.baseUrl}/processes/${key}/runs/${run.id}`, { headers: { authorization: `Basic ${Buffer.from(`x:${h.keys.service}`).toString('base64')}` } });
    const html = await page.text();
    expect(html).toContain('Reminded 2 times');
    expect(html).toContain('Escalated on');
  });

  it('escalates the stage of a sequential approval that is open when the time comes', async () => {
    const [ada, ben, carl] = [await user(), await user(), await user()];
    const key = await publish({ sections: [{ title: 'Gate', tasks: [
      { id: 'content', kind: 'approval', mode: 'sequential', title: 'Content', escalate: { after: '3s', to: { user: carl.email } },
        stages: [{ approvers: [{ user: ada.email }] }, { approvers: [{ user: ben.email }] }] },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.stage === 1);
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, ada.auth)).status).toBe(200);
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.stage === 2);
    // Stage 2 is ben's until the escalation lets carl stand in for him.
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, carl.auth)).status).toBe(403);
    await eventually(async () => subjects(carl.email).includes('A task was escalated to you: Content'));
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, carl.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 1, total: 1 });
    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.audit.filter((r: { action: string }) => r.action === 'process.task_escalated')).toHaveLength(1);
    expect(exported.checklist[0].decisions.map((d: { userId: string; stage: number }) => [d.userId, d.stage])).toEqual([[ada.id, 1], [carl.id, 2]]);
  });

  it('escalates to a round-robin once per run and task: a retried escalation picks the same person', async () => {
    const [ann, bo] = [await user(), await user()];
    const to = { roundRobin: { users: [ann.email, bo.email] }, rotation: uniqueKey('escalation-desk') };
    const place = { processKey: 'launch', taskId: 'signoff' };
    const first = await resolveAssignee(h.database.db, to, { ...place, workflowId: `process:launch:${uniqueKey('run')}` });
    const second = await resolveAssignee(h.database.db, to, { ...place, workflowId: `process:launch:${uniqueKey('run')}` });
    expect([first.userIds, second.userIds]).toEqual([[ann.id], [bo.id]]);
    // The same run and task again (an activity retry): the same person, and the rotation does not move.
    const workflowId = `process:launch:${uniqueKey('run')}`;
    const picked = await resolveAssignee(h.database.db, to, { ...place, workflowId });
    expect(await resolveAssignee(h.database.db, to, { ...place, workflowId })).toEqual(picked);
    expect(picked.userIds).toEqual([ann.id]);
    expect((await resolveAssignee(h.database.db, to, { ...place, workflowId: `process:launch:${uniqueKey('run')}` })).userIds).toEqual([bo.id]);
  });

  it('counts a business-day due date in its time zone, skipping the days that are not business days', async () => {
    const ada = await user();
    // Tomorrow (in Berlin) is made a weekend day and the day after a holiday: one business day is three days away.
    const berlinDate = (ms: number) => new Intl.DateTimeFormat('en-CA', { timeZone: 'Europe/Berlin' }).format(new Date(ms));
    const now = Date.now();
    const tomorrow = new Date(`${berlinDate(now + DAY)}T12:00:00Z`);
    const weekdays = WEEKDAYS.filter((_, i) => i !== tomorrow.getUTCDay());
    const holiday = berlinDate(now + 2 * DAY);
    const key = await publish({ sections: [{ title: 'S', tasks: [{
      id: 'brief', kind: 'checklist', title: 'Brief', assignee: { user: ada.email },
      due: { after: '1d', businessDays: { timezone: 'Europe/Berlin', weekdays, holidays: [holiday] } },
    }] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const view = await eventually(async () => { const v = (await h.api('GET', `/v1/processes/${key}/runs/${run.id}`)).body; return v.tasks[0].dueAt && v; });
    const dueAt = Date.parse(view.tasks[0].dueAt);
    // Three days after the start, at the same local time (a daylight saving change in between moves it by up to an hour).
    expect(Math.abs(dueAt - Date.parse(view.startedAt) - 3 * DAY)).toBeLessThan(3_600_000 + 60_000);
    expect(berlinDate(dueAt)).toBe(berlinDate(now + 3 * DAY));
    // The run's timer waits for the same instant (once the opening activity's answer reached it).
    await eventually(async () => (await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery)).tasks.brief!.dueAt !== undefined);
    expect((await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery)).tasks.brief!.dueAt).toBe(dueAt);
    const exported = (await h.api('GET', `/v1/processes/${key}/runs/${run.id}/export`)).body;
    expect(exported.audit.find((r: { action: string }) => r.action === 'process.task_opened').details.dueAt).toBe(view.tasks[0].dueAt);
    await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });
  it('refuses bad timing with 422 naming the task and field', async () => {
    const key = uniqueKey('process');
    await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { sections: [{ title: 'S', tasks: [
      { id: 'a', kind: 'checklist', title: 'A', assignee: { role: 'nobody-has-this' }, remind: { every: '1d', from: 'due' },
        due: { after: '36h', businessDays: { timezone: 'Europe/Nowhere', holidays: ['2026-13-01'] } } },
      { id: 'b', kind: 'checklist', title: 'B', escalate: { after: '1d', to: { user: 'nobody@example.test' } } },
    ] }] } });
    const refused = await h.api('POST', `/v1/processes/${key}/publish`);
    expect(refused.status).toBe(422);
    const paths = (refused.body.error.details.problems as Array<{ path: string; stepId: string }>).map((p) => `${p.stepId} ${p.path}`);
    expect(paths).toEqual(expect.arrayContaining([
      'a definition.sections[0].tasks[0].due.businessDays.timezone', 'a definition.sections[0].tasks[0].due.businessDays.holidays[0]',
    ]));
    const valid = uniqueKey('process');
    await h.api('POST', '/v1/processes', { key: valid, name: 'Bad', definition: { sections: [{ title: 'S', tasks: [
      { id: 'a', kind: 'checklist', title: 'A', remind: { every: '1d' }, due: { after: '36h', businessDays: { timezone: 'Europe/Berlin' } } },
      { id: 'b', kind: 'checklist', title: 'B', escalate: { after: '1d', from: 'due', to: { user: 'nobody@example.test' } } },
    ] }] } });
    expect((await h.api('POST', `/v1/processes/${valid}/publish`)).body.error.details.problems.map((p: { stepId: string; path: string }) => `${p.stepId} ${p.path}`).sort())
      .toEqual(['a definition.sections[0].tasks[0].due.after', 'a definition.sections[0].tasks[0].remind', 'b definition.sections[0].tasks[1].escalate.from']);
    const unknown = uniqueKey('process');
    await h.api('POST', '/v1/processes', { key: unknown, name: 'Bad', definition: { sections: [{ title: 'S', tasks: [
      { id: 'b', kind: 'checklist', title: 'B', escalate: { after: '1d', to: { user: 'nobody@example.test' } } },
    ] }] } });
    expect((await h.api('POST', `/v1/processes/${unknown}/publish`)).body.error.details.problems).toEqual([
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].escalate.to', stepId: 'b' }),
    ]);
  });
});

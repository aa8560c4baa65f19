import { processRunStateQuery } from '../../workflows/contract';
import { eventually, startHarness, type Harness } from '../support/harness';
import { approverUser, publishProcess } from '../support/process-people';

interface AuditRow { action: string; taskId: string | null; actor: string; details: Record<string, unknown> }
interface TaskView { taskId: string; status: string; dueAt: string | null; overdue: boolean }

/** An operator moves a process task's due time on the real stack: the run's timer follows it, and the chain records it. */
describe('process task due-date changes', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const task = (view: { tasks: TaskView[] }, id: string) => view.tasks.find((t) => t.taskId === id)!;
  const inSeconds = (s: number) => new Date(Date.now() + s * 1000).toISOString();

  it('moves a due time earlier (the task falls overdue then), and an overdue one into the future (it is no longer overdue); audited', async () => {
    const ada = await approverUser(h);
    const key = await publishProcess(h, { sections: [{ title: 'Launch', tasks: [
      { id: 'brief', kind: 'checklist', title: 'Brief', assignee: { user: ada.email }, due: { after: '1d' } },
      { id: 'copy', kind: 'checklist', title: 'Copy', assignee: { user: ada.email } },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    const opened = await eventually(async () => { const v = (await h.api('GET', base)).body; return v.tasks.every((t: TaskView) => t.status === 'open') && v; });
    const firstDue = task(opened, 'brief').dueAt!;
    const state = async () => h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    // The run's clock is in place before the move, so the move is what brings the task's time earlier.
    await eventually(async () => (await state()).tasks.brief!.dueAt === Date.parse(firstDue));

    // A day away becomes two seconds away: the run's timer follows and marks it overdue.
    const soon = inSeconds(2);
    const moved = await h.api('PUT', `${base}/tasks/brief/due`, { dueAt: soon, reason: 'Launch moved up a day' });
    expect(moved.status).toBe(200);
    expect(task(moved.body, 'brief')).toMatchObject({ dueAt: soon, overdue: false });
    expect((await state()).tasks.brief!.dueAt).toBe(Date.parse(soon));
    expect((await h.api('GET', base)).body.progress.overdue).toEqual([]);
    const late = await eventually(async () => { const v = (await h.api('GET', base)).body; return v.progress.overdue.includes('brief') && v; }, 15_000);
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(soon));
    expect(task(late, 'brief').overdue).toBe(true);

    // An overdue task moved into the future is no longer overdue, at once.
    const later = inSeconds(3600);
    const rescued = await h.api('PUT', `${base}/tasks/brief/due`, { dueAt: later, reason: 'Agency needs an hour' });
    expect(rescued.status).toBe(200);
    expect(task(rescued.body, 'brief')).toMatchObject({ dueAt: later, overdue: false });
    expect(rescued.body.progress.overdue).toEqual([]);
    expect((await state()).tasks.brief).toMatchObject({ dueAt: Date.parse(later), overdue: false });

    // Moved earlier again, it falls overdue again, and that is recorded again.
    await h.api('PUT', `${base}/tasks/brief/due`, { dueAt: inSeconds(1), reason: 'Agency was early' });
    await eventually(async () => (await h.api('GET', base)).body.progress.overdue.includes('brief'), 15_000);
    // A task without a due time gets one; null takes it away.
    const copyDue = await h.api('PUT', `${base}/tasks/copy/due`, { dueAt: later, reason: 'Copy goes with the brief' });
    expect(task(copyDue.body, 'copy').dueAt).toBe(later);
    expect(task((await h.api('PUT', `${base}/tasks/copy/due`, { dueAt: null, reason: 'No deadline after all' })).body, 'copy').dueAt).toBeNull();

    for (const id of ['brief', 'copy']) expect((await h.api('POST', `${base}/tasks/${id}/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });

    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.verification.ok).toBe(true);
    const audit = exported.audit as AuditRow[];
    const moves = audit.filter((r) => r.action === 'process.task_due_changed');
    expect(moves.map((r) => [r.taskId, r.details.change, r.details.reason])).toEqual([
      ['brief', 1, 'Launch moved up a day'], ['brief', 2, 'Agency needs an hour'], ['brief', 3, 'Agency was early'],
      ['copy', 1, 'Copy goes with the brief'], ['copy', 2, 'No deadline after all'],
    ]);
    expect(moves[0]!.details).toMatchObject({ from: firstDue, dueAt: soon });
    expect(moves[4]!.details).toMatchObject({ from: later, dueAt: null });
    for (const m of moves) expect(m.actor).toMatch(/^api_key:/);
    // Each fall into overdue is recorded, after the move that caused it.
    const order = audit.filter((r) => r.taskId === 'brief' && /due_changed|overdue/.test(r.action)).map((r) => `${r.action}:${r.details.change ?? r.details.dueChange ?? ''}`);
    expect(order).toEqual([
      'process.task_due_changed:1', 'process.task_overdue:1', 'process.task_due_changed:2', 'process.task_due_changed:3', 'process.task_overdue:3',
    ]);
    const briefRow = exported.checklist.find((t: { taskId: string }) => t.taskId === 'brief');
    expect(briefRow.dueChanges.map((c: { reason: string }) => c.reason)).toEqual(['Launch moved up a day', 'Agency needs an hour', 'Agency was early']);
    const page = await fetch(`${h.baseUrl}/processes/${key}/runs/${run.id}/export?format=html`, { headers: { authorization: `Basic ${Buffer.from(`x:${h.keys.service}`).toString('base64')}` } });
    const html = await page.text();
    expect(html).toContain('process.task_due_changed');
    expect(html).toContain('Due date moved 3 times');
    expect(html).toContain('“Agency was early”');
  });

  it('moves reminders counted from the due time with it', async () => {
    const ada = await approverUser(h);
    const key = await publishProcess(h, { sections: [{ title: 'S', tasks: [
      { id: 'sign', kind: 'checklist', title: 'Sign the brief', assignee: { user: ada.email }, due: { after: '1d' }, remind: { every: '1s', max: 1, from: 'due' } },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery)).tasks.sign!.dueAt !== undefined);
    // Due in a day, the first reminder would go out a day and a second from now; moved, it goes out about two seconds from now.
    expect((await h.api('PUT', `${base}/tasks/sign/due`, { dueAt: inSeconds(1), reason: 'Print deadline' })).status).toBe(200);
    await eventually(async () => h.smtp.to(ada.email).length > 0, 15_000);
    expect(h.smtp.to(ada.email).map((m) => m.parsed.subject)).toEqual(['Reminder: a task waits for you: Sign the brief']);
    expect((await h.api('POST', `${base}/tasks/sign/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 1, total: 1 });
  });

  it('refuses a past or malformed time, a missing reason, a closed task, an unknown task and a non-admin key', async () => {
    const ada = await approverUser(h);
    const key = await publishProcess(h, { sections: [{ title: 'S', tasks: [
      { id: 'a', kind: 'checklist', title: 'A', assignee: { user: ada.email } },
      { id: 'b', kind: 'checklist', title: 'B', assignee: { user: ada.email }, after: ['a'] },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => task((await h.api('GET', base)).body, 'a').status === 'open');
    const put = (taskId: string, body: unknown, headers?: Record<string, string>) => h.api('PUT', `${base}/tasks/${taskId}/due`, body, headers);
    const pathsOf = (r: { body: { error: { details: { problems: Array<{ path: string }> } } } }) => r.body.error.details.problems.map((p) => p.path);

    const past = await put('a', { dueAt: inSeconds(-60), reason: 'Too late' });
    expect(past.status).toBe(422);
    expect(pathsOf(past)).toEqual(['body.dueAt']);
    const malformed = await put('a', { dueAt: 'next tuesday', reason: 'x' });
    expect(malformed.status).toBe(400);
    expect(malformed.body.error.message).toMatch(/dueAt/);
    const noReason = await put('a', { dueAt: inSeconds(3600) });
    expect(noReason.status).toBe(400);
    expect(noReason.body.error.message).toMatch(/reason/);
    expect((await put('a', { dueAt: inSeconds(3600), reason: '   ' })).status).toBe(400);
    expect((await put('a', { dueAt: inSeconds(3600), reason: 'x'.repeat(501) })).status).toBe(400);
    expect((await put('a', { dueAt: inSeconds(3600), reason: 'Mine' }, ada.auth)).status).toBe(403);
    expect((await put('a', { dueAt: inSeconds(3600), reason: 'Service' }, { authorization: `Bearer ${h.keys.service}` })).status).toBe(403);
    expect((await put('nope', { dueAt: inSeconds(3600), reason: 'Unknown' })).status).toBe(404);
    // "b" waits for "a": pending is not open.
    expect((await put('b', { dueAt: inSeconds(3600), reason: 'Pending' })).status).toBe(409);

    expect((await h.api('POST', `${base}/tasks/a/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    const closed = await put('a', { dueAt: inSeconds(3600), reason: 'Done already' });
    expect(closed.status).toBe(409);
    expect(closed.body.error.code).toBe('task_closed');
    await eventually(async () => task((await h.api('GET', base)).body, 'b').status === 'open');
    expect((await h.api('POST', `${base}/tasks/b/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });
    // The run ended.
    expect((await put('b', { dueAt: inSeconds(3600), reason: 'Ended' })).status).toBe(409);

    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.audit.filter((r: AuditRow) => r.action === 'process.task_due_changed')).toEqual([]);
    expect(exported.verification.ok).toBe(true);
  });
});

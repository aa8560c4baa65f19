import { readFileSync } from 'node:fs';
import path from 'node:path';
import { Assignee, ProcessKey, ProcessTask, processRunStateQuery } from '../../workflows/contract';
import { eventually, startHarness, uniqueKey, type Harness } from '../support/harness';
import { approverUser, publishProcess } from '../support/process-people';

/** Processes on the real stack: a run's sections, stop task, conditional task, all-of approval, overdue timer and export. */
describe('processes', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const user = (roles: string[] = []) => approverUser(h, roles);
  const publish = (definition: unknown, key?: string) => publishProcess(h, definition, key);

  it('runs sections in order: a form, a skipped conditional task, an overdue task, a stop all-of approval, then the rest; the export proves it', async () => {
    const ada = await user();
    const ben = await user();
    const key = await publish({
      inputs: [{ name: 'campaign', label: 'Campaign', type: 'text', required: true }],
      sections: [
        { title: 'Prepare', tasks: [
          { id: 'brief', kind: 'form', title: 'Brief', assignee: { user: ada.email }, fields: [
            { name: 'audience', label: 'Audience', type: 'text', required: true }, { name: 'claims', label: 'Claims?', type: 'checkbox' },
          ] },
          { id: 'assets', kind: 'checklist', title: 'Assets ready', due: { after: '1s' } },
        ] },
        { title: 'Review', tasks: [
          { id: 'legal', kind: 'approval', title: 'Legal', approvers: [{ userId: ben.id }], when: { field: 'task.brief.values.claims', op: 'eq', value: true } },
          { id: 'signoff', kind: 'approval', mode: 'all_of', stop: true, title: 'Sign-off', approvers: [{ user: ada.email }, { userId: ben.id }], after: ['brief'] },
        ] },
        { title: 'Launch', tasks: [{ id: 'launch', kind: 'checklist', title: 'Launch' }] },
      ],
    });
    const started = await h.api('POST', `/v1/processes/${key}/runs`, { inputs: { campaign: 'Winter' } });
    expect(started.status).toBe(201);
    const run = started.body;
    expect(run.workflowId).toBe(`process:${key}:${run.id}`);
    const base = `/v1/processes/${key}/runs/${run.id}`;
    const progress = async () => (await h.api('GET', base)).body;

    const first = await eventually(async () => { const p = await progress(); return p.tasks[1].status === 'open' && p; });
    expect(first.progress).toMatchObject({ done: 0, total: 5, next: { taskId: 'brief', userIds: [ada.id] } });
    expect(first.tasks.map((t: { taskId: string; section: string; status: string }) => `${t.section}/${t.taskId}:${t.status}`))
      .toEqual(['Prepare/brief:open', 'Prepare/assets:open', 'Review/legal:pending', 'Review/signoff:pending', 'Launch/launch:pending']);

    // Only the assignee, with valid values, through the action the task's kind takes.
    expect((await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete', values: { audience: 'ops' } }, ben.auth)).status).toBe(403);
    const bad = await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete', values: { claims: 'yes' } }, ada.auth);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems.map((p: { path: string }) => p.path).sort()).toEqual(['body.values.audience', 'body.values.claims']);
    expect((await h.api('POST', `${base}/tasks/brief/complete`, { action: 'approve', values: { audience: 'ops' } }, ada.auth)).status).toBe(422);
    // The stop task holds "launch" back.
    expect((await h.api('POST', `${base}/tasks/launch/complete`, { action: 'complete' }, ben.auth)).status).toBe(409);

    const answered = await h.api('POST', `${base}/tasks/brief/complete`, { action: 'complete', values: { audience: 'ops', claims: false } }, ada.auth);
    expect(answered.status).toBe(200);
    const afterBrief = await eventually(async () => { const p = await progress(); return p.tasks.find((t: { taskId: string }) => t.taskId === 'signoff').status === 'open' && p; });
    expect(afterBrief.tasks.find((t: { taskId: string }) => t.taskId === 'legal').status).toBe('skipped');
    expect(afterBrief.progress.total).toBe(4);

    // A durable timer marks "assets" overdue.
    await eventually(async () => (await progress()).progress.overdue.includes('assets'));

    // All-of: one approval leaves it open; the same decision again is the same update, not a second decision.
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, ada.auth)).status).toBe(200);
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, ada.auth)).status).toBe(200);
    let state = await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    expect(state.tasks.signoff!.status).toBe('open');
    expect(state.tasks.launch!.status).toBe('pending');
    expect(state.progress.next).toMatchObject({ taskId: 'assets' });
    expect((await h.api('POST', `${base}/tasks/signoff/complete`, { action: 'approve' }, ben.auth)).status).toBe(200);
    state = await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    expect(state.tasks.signoff!.status).toBe('approved');
    expect(state.tasks.launch!.status).toBe('open');

    const description = await h.client.workflow.getHandle(run.workflowId).describe();
    expect(description.typedSearchAttributes.get(ProcessKey)).toBe(key);
    expect(description.typedSearchAttributes.get(ProcessTask)).toBe('assets');
    expect(description.typedSearchAttributes.get(Assignee)).toBeUndefined();

    for (const task of ['assets', 'launch']) expect((await h.api('POST', `${base}/tasks/${task}/complete`, { action: 'complete' }, ben.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 4, total: 4 });
    expect((await progress()).status).toBe('completed');

    const exported = await h.api('GET', `${base}/export?format=json`);
    expect(exported.status).toBe(200);
    expect(exported.body.verification).toMatchObject({ ok: true, chain: `process:${run.id}` });
    expect(exported.body.checklist.map((t: { taskId: string; status: string }) => `${t.taskId}:${t.status}`))
      .toEqual(['brief:done', 'assets:done', 'legal:skipped', 'signoff:approved', 'launch:done']);
    expect(exported.body.checklist[0]).toMatchObject({ completedBy: ada.id, values: { audience: 'ops', claims: false } });
    expect(exported.body.checklist[3].decisions.map((d: { userId: string }) => d.userId)).toEqual([ada.id, ben.id]);
    expect(exported.body.checklist[1].overdueAt).not.toBeNull();
    const actions = exported.body.audit.map((r: { action: string; taskId: string | null; actor: string }) => `${r.action}:${r.taskId ?? ''}:${r.actor}`);
    expect(actions).toEqual(expect.arrayContaining([
      'process.run_started::process', `process.task_answered:brief:user:${ada.id}`, 'process.task_skipped:legal:process',
      'process.task_overdue:assets:process', `process.task_decided:signoff:user:${ada.id}`, `process.task_decided:signoff:user:${ben.id}`,
      'process.approval_approved:signoff:process', `process.task_completed:launch:user:${ben.id}`, 'process.run_completed::process',
    ]));
    expect(actions.filter((a: string) => a.startsWith('process.task_decided'))).toHaveLength(2);
    expect(exported.body.audit.map((r: { seq: number }) => r.seq)).toEqual(exported.body.audit.map((_: unknown, i: number) => i + 1));
  });

  it('ends a run rejected when a stop approval is rejected, cancelling what is left', async () => {
    const role = `reviewers-${uniqueKey('r').slice(-8)}`;
    const [ann, bob] = [await user([role]), await user([role])];
    const key = await publish({ sections: [{ title: 'Gate', tasks: [
      { id: 'review', kind: 'approval', mode: 'any_of', stop: true, title: 'Review', approvers: [{ role }, { role }] },
      { id: 'ship', kind: 'checklist', title: 'Ship' },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.taskId === 'review');
    expect((await h.api('POST', `${base}/tasks/review/complete`, { action: 'reject' }, ann.auth)).body.tasks[0].status).toBe('open');
    expect((await h.api('POST', `${base}/tasks/review/complete`, { action: 'reject' }, bob.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'rejected', done: 1, total: 1 });
    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.checklist.map((t: { status: string }) => t.status)).toEqual(['rejected', 'cancelled']);
    expect(exported.verification.ok).toBe(true);
    expect((await h.api('POST', `${base}/tasks/ship/complete`, { action: 'complete' }, ann.auth)).status).toBe(409);
  });

  it('lists a process\'s runs newest first, a page at a time, by status', async () => {
    const key = await publish({ sections: [{ title: 'One', tasks: [{ id: 'tick', kind: 'checklist', title: 'Tick' }] }] });
    const runs = [];
    for (let i = 0; i < 3; i++) runs.push((await h.api('POST', `/v1/processes/${key}/runs`, {})).body);
    const [first, , last] = runs as Array<{ id: string; workflowId: string }>;
    // The first run ends: ticking its one task completes it.
    await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${first!.id}`)).body.progress.next?.taskId === 'tick');
    const ticker = await user();
    expect((await h.api('POST', `/v1/processes/${key}/runs/${first!.id}/tasks/tick/complete`, { action: 'complete' }, ticker.auth)).status).toBe(200);
    await h.result(first!.workflowId);
    await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${first!.id}`)).body.status === 'completed');

    const page1 = (await h.api('GET', `/v1/processes/${key}/runs?limit=2`)).body;
    expect(page1.runs.map((r: { id: string }) => r.id)).toEqual([last!.id, runs[1].id]);
    expect(page1.runs[0]).toMatchObject({ processKey: key, version: 1, status: 'running', startedBy: expect.stringMatching(/^api_key:/), endedAt: null });
    const page2 = (await h.api('GET', `/v1/processes/${key}/runs?limit=2&after=${page1.nextCursor}`)).body;
    expect(page2).toMatchObject({ runs: [{ id: first!.id, status: 'completed' }], nextCursor: null });
    const running = (await h.api('GET', `/v1/processes/${key}/runs?status=running`)).body.runs.map((r: { id: string }) => r.id);
    expect(running).toEqual([last!.id, runs[1].id]);

    expect((await h.api('GET', `/v1/processes/${key}/runs?status=stuck`)).status).toBe(400);
    expect((await h.api('GET', `/v1/processes/${key}/runs?after=nope`)).status).toBe(400);
    expect((await h.api('GET', '/v1/processes/no-such-process/runs')).status).toBe(404);
    for (const run of runs.slice(1)) await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });

  it('publishes the shipped example definition and starts it', async () => {
    const roles = ['marketing', 'legal', 'marketing-lead', 'brand'];
    await user(roles);
    const definition = JSON.parse(readFileSync(path.join(__dirname, '../../docs/examples/campaign-launch.process.json'), 'utf8'));
    const key = await publish(definition);
    const run = await h.api('POST', `/v1/processes/${key}/runs`, { inputs: { journey: 'spring-sale', campaign: 'Spring', paid: false } });
    expect(run.status).toBe(201);
    await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${run.body.id}`)).body.progress.next?.taskId === 'brief');
    await h.client.workflow.getHandle(run.body.workflowId).terminate('test over');
  });

  it('refuses hostile input with 4xx JSON naming the field', async () => {
    const problemsOf = async (tasks: unknown[]) => {
      const key = uniqueKey('process');
      const created = await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { sections: [{ title: 'S', tasks }] } });
      expect(created.status).toBe(201);
      expect(created.body.draftProblems.length).toBeGreaterThan(0);
      const refused = await h.api('POST', `/v1/processes/${key}/publish`);
      expect(refused.status).toBe(422);
      const problems = refused.body.error.details.problems as Array<{ path: string; stepId?: string; message: string }>;
      for (const p of problems) expect(p.message).toMatch(/^task "/);
      return problems;
    };
    expect(await problemsOf([
      { id: 'b', kind: 'approval', title: 'B', mode: 'single', approvers: [{ role: 'x' }, { role: 'y' }] },
      { id: 'c', kind: 'form', title: 'C', fields: [] },
    ])).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].approvers', stepId: 'b' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[1].fields', stepId: 'c' }),
    ]));
    expect(await problemsOf([
      { id: 'a', kind: 'checklist', title: 'A', after: ['b'], when: { field: 'contact.email', op: 'exists' } },
      { id: 'b', kind: 'checklist', title: 'B', due: { after: '1d', from: 'zz' } },
      { id: 'b', kind: 'checklist', title: 'B again' },
    ])).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].after[0]', stepId: 'a' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].when', stepId: 'a' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[1].due.from', stepId: 'b' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[2].id', stepId: 'b' }),
    ]));
    const nobody = uniqueKey('process');
    await h.api('POST', '/v1/processes', { key: nobody, name: 'N', definition: { sections: [{ title: 'S', tasks: [{ id: 'a', kind: 'checklist', title: 'A', assignee: { role: 'nobody-has-this' } }] }] } });
    expect((await h.api('POST', `/v1/processes/${nobody}/publish`)).body.error.details.problems[0]).toMatchObject({ path: 'definition.sections[0].tasks[0].assignee', stepId: 'a' });
    expect((await h.api('POST', `/v1/processes/${nobody}/runs`, {})).status).toBe(409);

    const ok = await publish({ inputs: [{ name: 'campaign', label: 'Campaign', type: 'text', required: true, maxLength: 20 }], sections: [{ title: 'S', tasks: [{ id: 'a', kind: 'checklist', title: 'A' }] }] });
    const badInputs = await h.api('POST', `/v1/processes/${ok}/runs`, { inputs: { campaign: 'x'.repeat(21), extra: { $gt: 1 } } });
    expect(badInputs.status).toBe(422);
    expect(badInputs.body.error.details.problems.map((p: { path: string }) => p.path).sort()).toEqual(['body.inputs.campaign', 'body.inputs.extra']);
    const run = (await h.api('POST', `/v1/processes/${ok}/runs`, { inputs: { campaign: 'Winter' } })).body;
    const approver = await user();
    const answers = await Promise.all([
      h.api('POST', '/v1/processes', { key: 'Bad Key!', name: 'x', definition: {} }),
      h.api('POST', '/v1/processes', { key: uniqueKey('process'), name: 'x', definition: { sections: [], padding: 'x'.repeat(300 * 1024) } }),
      h.api('GET', `/v1/processes/${ok}/runs/not-a-uuid`),
      h.api('GET', `/v1/processes/${ok}/runs/${crypto.randomUUID()}`),
      h.api('GET', `/v1/processes/${uniqueKey('process')}/runs/${run.id}`),
      h.api('GET', `/v1/processes/${ok}/runs/${run.id}/export?format=xlsx`),
      h.api('POST', `/v1/processes/${ok}/runs/${run.id}/tasks/..%2Fetc/complete`, { action: 'complete' }, approver.auth),
      h.api('POST', `/v1/processes/${ok}/runs/${run.id}/tasks/nope/complete`, { action: 'complete' }, approver.auth),
      h.api('POST', `/v1/processes/${ok}/runs/${run.id}/tasks/a/complete`, { action: 'complete' }),
      h.api('POST', `/v1/processes/${ok}/runs/${run.id}/tasks/a/complete`, { action: 'destroy' }, approver.auth),
      h.api('POST', `/v1/processes/${ok}/runs`, { inputs: 'campaign' }, { authorization: `Bearer ${h.keys.service}` }),
      h.api('POST', '/v1/processes', { key: uniqueKey('process'), name: 'x', definition: {} }, { authorization: `Bearer ${h.keys.service}` }),
    ]);
    expect(answers.map((a) => a.status)).toEqual([400, 422, 400, 404, 404, 400, 400, 404, 403, 400, 400, 403]);
    for (const a of answers) expect(a.body.error.code).toEqual(expect.any(String));
    await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });
});

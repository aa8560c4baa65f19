import { eq } from 'drizzle-orm';
import { ownerPools } from '../../db/schema';
import { openRunTask } from '../../services/processes/run-tasks';
import { Assignee, processRunStateQuery } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

type Audit = { action: string; taskId: string | null; actor: string; details: Record<string, unknown> };
type InboxTask = { runId?: string; taskId?: string; stage?: number | null; assignees?: Array<{ userIds: string[]; rotation?: string }> };

/** Sequential approval stages and round-robin assignees of process tasks, on the real stack. */
describe('process approval stages and round-robin assignees', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function user(roles: string[] = []) {
    const created = await h.api('POST', '/v1/users', { email: uniqueEmail('stage'), name: 'Stage User', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: created.body.id });
    return { id: created.body.id as string, email: created.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  async function publish(definition: unknown) {
    const key = uniqueKey('stages');
    expect((await h.api('POST', '/v1/processes', { key, name: 'Stages', definition })).status).toBe(201);
    const published = await h.api('POST', `/v1/processes/${key}/publish`);
    if (published.status !== 201) throw new Error(JSON.stringify(published.body));
    return key;
  }
  const inbox = async (auth: Record<string, string>, runId: string) =>
    ((await h.api('GET', '/v1/tasks?source=process', undefined, auth)).body.tasks as InboxTask[]).filter((t) => t.runId === runId);
  const assigneeOf = async (workflowId: string) => (await h.client.workflow.getHandle(workflowId).describe()).typedSearchAttributes.get(Assignee);

  it('opens stage 2 only once stage 1 approved; only the current stage decides; the proof shows each stage', async () => {
    const [ada, ben] = [await user(), await user()];
    const key = await publish({ sections: [{ title: 'Review', tasks: [
      { id: 'content', kind: 'approval', mode: 'sequential', stop: true, title: 'Content', stages: [
        { approvers: [{ user: ada.email }] },
        { mode: 'any_of', approvers: [{ userId: ben.id }] },
      ] },
      { id: 'launch', kind: 'checklist', title: 'Launch' },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    const first = await eventually(async () => { const p = (await h.api('GET', base)).body; return p.progress.next?.taskId === 'content' && p; });
    expect(first.progress.next).toEqual({ taskId: 'content', userIds: [ada.id], roles: [], stage: 1 });
    expect(first.tasks[0]).toMatchObject({ taskId: 'content', status: 'open', stage: 1 });
    await eventually(async () => (await assigneeOf(run.workflowId)) === ada.id);
    expect(await inbox(ada.auth, run.id)).toEqual([expect.objectContaining({ taskId: 'content', stage: 1 })]);
    expect(await inbox(ben.auth, run.id)).toEqual([]);

    // The stage-2 approver may not decide while stage 1 is open.
    const early = await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, ben.auth);
    expect(early.status).toBe(403);
    expect(early.body.error.code).toBe('not_allowed');

    const one = await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve', comment: 'copy fine' }, ada.auth);
    expect(one.status).toBe(200);
    const second = await eventually(async () => { const p = (await h.api('GET', base)).body; return p.progress.next?.stage === 2 && p; });
    expect(second.progress.next).toEqual({ taskId: 'content', userIds: [ben.id], roles: [], stage: 2 });
    expect(second.tasks.map((t: { status: string }) => t.status)).toEqual(['open', 'pending']);
    await eventually(async () => (await assigneeOf(run.workflowId)) === ben.id);
    expect(await inbox(ada.auth, run.id)).toEqual([]);
    const [benTask] = await inbox(ben.auth, run.id);
    expect(benTask).toMatchObject({ taskId: 'content', stage: 2 });
    expect(String((await h.api('GET', `/tasks/${(benTask as { id: string }).id}`, undefined, ben.auth)).body)).toContain(`${key} · Review · stage 2`);
    expect((await h.api('GET', `/tasks/${(benTask as { id: string }).id}`, undefined, ada.auth)).status).toBe(403);

    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, ben.auth)).status).toBe(200);
    const state = await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    expect(state.tasks.content!.status).toBe('approved');
    expect((await h.api('POST', `${base}/tasks/launch/complete`, { action: 'complete' }, ada.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'completed', done: 2, total: 2 });

    const exported = (await h.api('GET', `${base}/export?format=json`)).body;
    expect(exported.verification.ok).toBe(true);
    expect(exported.checklist[0]).toMatchObject({ status: 'approved', stage: 2, stages: 2 });
    expect(exported.checklist[0].decisions.map((d: { userId: string; stage: number }) => `${d.stage}:${d.userId}`)).toEqual([`1:${ada.id}`, `2:${ben.id}`]);
    const actions = (exported.audit as Audit[]).filter((r) => r.taskId === 'content').map((r) => `${r.action}:${r.actor}`);
    expect(actions).toEqual([
      'process.task_opened:process', 'process.approval_stage_opened:process', `process.task_decided:user:${ada.id}`,
      'process.approval_stage_approved:process', 'process.approval_stage_opened:process', `process.task_decided:user:${ben.id}`,
      'process.approval_stage_approved:process', 'process.approval_approved:process',
    ]);
    const html = String((await h.api('GET', `${base}/export?format=html`)).body);
    expect(html).toContain('Reached stage 2 of 2');
    expect(html).toMatch(/Stage 1: Approved by Stage User/);
    const csv = String((await h.api('GET', `${base}/export?format=csv`)).body);
    expect(csv).toMatch(/decision,Review,content,Content,approve,[^\r\n]*,stage 1,\r\n/);
  });

  it('rejects the task, and the run, when stage 1 rejects; stage 2 never opens', async () => {
    const role = `legal-${uniqueKey('r').slice(-8)}`;
    const [ann, bob, cal] = [await user([role]), await user([role]), await user()];
    const key = await publish({ sections: [{ title: 'Review', tasks: [
      { id: 'content', kind: 'approval', mode: 'sequential', stop: true, title: 'Content', stages: [
        { mode: 'all_of', approvers: [{ role }, { role }] },
        { approvers: [{ user: cal.email }] },
      ] },
      { id: 'launch', kind: 'checklist', title: 'Launch' },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.stage === 1);
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, ann.auth)).body.tasks[0]).toMatchObject({ status: 'open', stage: 1 });
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, cal.auth)).status).toBe(403);
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'reject' }, bob.auth)).status).toBe(200);
    expect(await h.result(run.workflowId)).toEqual({ status: 'rejected', done: 1, total: 1 });
    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.checklist.map((t: { status: string }) => t.status)).toEqual(['rejected', 'cancelled']);
    const actions = (exported.audit as Audit[]).map((r) => r.action);
    expect(actions).toEqual(expect.arrayContaining(['process.approval_stage_rejected', 'process.approval_rejected', 'process.run_rejected']));
    expect(actions.filter((a) => a === 'process.approval_stage_opened')).toHaveLength(1);
    expect(exported.verification.ok).toBe(true);
  });

  it("leaves whoever decided stage 1 out of a later stage's role and rotation", async () => {
    const role = `brand-${uniqueKey('r').slice(-8)}`;
    const [ann, bob] = [await user([role]), await user([role])];
    const key = await publish({ sections: [{ title: 'Review', tasks: [
      { id: 'content', kind: 'approval', mode: 'sequential', title: 'Content', stages: [
        { approvers: [{ role }] }, { approvers: [{ roundRobin: { role } }] }, { approvers: [{ role }] },
      ] },
    ] }] });
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    const base = `/v1/processes/${key}/runs/${run.id}`;
    await eventually(async () => (await h.api('GET', base)).body.progress.next?.stage === 1);
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, ann.auth)).status).toBe(200);
    const second = await eventually(async () => { const p = (await h.api('GET', base)).body; return p.progress.next?.stage === 2 && p; });
    // Whatever the rotation's turn, ann decided stage 1: bob is the only one left to pick.
    expect(second.progress.next).toMatchObject({ userIds: [bob.id] });
    expect(await inbox(ann.auth, run.id)).toEqual([]);
    expect((await h.api('POST', `${base}/tasks/content/complete`, { action: 'approve' }, bob.auth)).status).toBe(200);
    // Stage 3 (the role): both decided already, so nobody is left; the stage waits, in no one's inbox.
    const third = await eventually(async () => { const p = (await h.api('GET', base)).body; return p.progress.next?.stage === 3 && p; });
    expect(third.progress.next).toMatchObject({ userIds: [] });
    expect(await inbox(ann.auth, run.id)).toEqual([]);
    expect(await inbox(bob.auth, run.id)).toEqual([]);
    // Ann asking again is her stage-1 request again (the update id is task and user): it decides nothing.
    await h.api('POST', `${base}/tasks/content/complete`, { action: 'reject' }, ann.auth);
    const state = await h.client.workflow.getHandle(run.workflowId).query(processRunStateQuery);
    expect(state.tasks.content).toMatchObject({ status: 'open', slots: [{ userIds: [], role, stage: 3 }] });
    // The chain says why it waits: stage 3's one slot has nobody.
    const exported = (await h.api('GET', `${base}/export`)).body;
    expect(exported.audit.filter((r: { action: string }) => r.action === 'process.task_unstaffed').map((r: { details: unknown }) => r.details))
      .toEqual([expect.objectContaining({ slots: [0], stage: 3 })]);
    await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });

  it('gives round-robin tasks to the next person of the rotation, once per run and task', async () => {
    const role = `sales-${uniqueKey('r').slice(-8)}`;
    const [sam, sue] = [await user([role]), await user([role])];
    const key = await publish({ sections: [{ title: 'Handoff', tasks: [
      { id: 'call', kind: 'checklist', title: 'Call the lead', assignee: { roundRobin: { role } } },
    ] }] });
    const runs = [];
    for (let n = 0; n < 2; n++) {
      const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
      const next = await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${run.id}`)).body.progress.next);
      runs.push({ ...run, holder: next.userIds as string[] });
    }
    expect(runs.map((r) => r.holder.length)).toEqual([1, 1]);
    expect(runs.map((r) => r.holder[0]).sort()).toEqual([sam.id, sue.id].sort());
    const rotation = `process:${key}:call:0`;
    expect((await h.database.db.select().from(ownerPools).where(eq(ownerPools.key, rotation)))[0]?.nextIndex).toBe(2);

    // Only the one picked may act, and sees it in the inbox.
    const [first] = runs;
    const [holder, other] = first.holder[0] === sam.id ? [sam, sue] : [sue, sam];
    expect(await inbox(holder.auth, first.id)).toEqual([expect.objectContaining({ taskId: 'call', assignees: [{ userIds: [holder.id], rotation }] })]);
    expect(await inbox(other.auth, first.id)).toEqual([]);
    expect((await h.api('POST', `/v1/processes/${key}/runs/${first.id}/tasks/call/complete`, { action: 'complete' }, other.auth)).status).toBe(403);

    // A retried opening (the activity again) picks nobody new: same slot, the rotation unturned, one audit record.
    const again = await openRunTask(h.database.db, {
      runId: first.id, workflowId: first.workflowId, processKey: key, taskId: 'call', kind: 'checklist', title: 'Call the lead', assignees: [{ roundRobin: { role } }],
    });
    expect(again.slots).toEqual([{ userIds: [holder.id], rotation }]);
    expect((await h.database.db.select().from(ownerPools).where(eq(ownerPools.key, rotation)))[0]?.nextIndex).toBe(2);

    expect((await h.api('POST', `/v1/processes/${key}/runs/${first.id}/tasks/call/complete`, { action: 'complete' }, holder.auth)).status).toBe(200);
    expect(await h.result(first.workflowId)).toMatchObject({ status: 'completed' });
    const audit = (await h.api('GET', `/v1/processes/${key}/runs/${first.id}/export`)).body.audit as Audit[];
    const picks = audit.filter((r) => r.action === 'process.assignee_picked');
    expect(picks).toEqual([expect.objectContaining({ taskId: 'call', details: expect.objectContaining({ rotation, userId: holder.id, slot: 0 }) })]);
    await h.client.workflow.getHandle(runs[1].workflowId).terminate('test over');
  });

  it('refuses a round-robin of nobody and a stage problem at publish, naming the task and field', async () => {
    const key = uniqueKey('stages');
    await h.api('POST', '/v1/processes', { key, name: 'Bad', definition: { sections: [{ title: 'S', tasks: [
      { id: 'call', kind: 'checklist', title: 'Call', assignee: { roundRobin: { users: ['nobody-here@example.com'] } } },
      { id: 'review', kind: 'approval', mode: 'sequential', title: 'Review', stages: [{ approvers: [{ roundRobin: { role: 'no-such-role-here' } }] }, { approvers: [{ role: 'no-such-role-here' }] }] },
    ] }] } });
    const refused = await h.api('POST', `/v1/processes/${key}/publish`);
    expect(refused.status).toBe(422);
    expect(refused.body.error.details.problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].assignee', stepId: 'call' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[1].stages[0].approvers[0]', stepId: 'review' }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[1].stages[1].approvers[0]', stepId: 'review' }),
    ]));
    const invalid = uniqueKey('stages');
    await h.api('POST', '/v1/processes', { key: invalid, name: 'Bad', definition: { sections: [{ title: 'S', tasks: [
      { id: 'review', kind: 'approval', mode: 'sequential', title: 'Review', approvers: [{ role: 'x' }] },
    ] }] } });
    const problems = (await h.api('POST', `/v1/processes/${invalid}/publish`)).body.error.details.problems;
    expect(problems).toEqual(expect.arrayContaining([
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].stages', stepId: 'review', message: expect.stringMatching(/^task "review": /) }),
      expect.objectContaining({ path: 'definition.sections[0].tasks[0].approvers', stepId: 'review' }),
    ]));
  });
});

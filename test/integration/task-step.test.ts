import { readFileSync } from 'node:fs';
import path from 'node:path';
import { asc, eq } from 'drizzle-orm';
import { auditRecords, tasks } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

type PathEntry = { stepId: string; outcome: string };

describe('task step (sales handoff)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function seller() {
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('seller'), name: 'Seller', roles: [] });
    const key = await h.api('POST', '/v1/api-keys', { name: 'seller', scopes: ['approver'], userId: user.body.id });
    return { id: user.body.id as string, email: user.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  const handoff = (task: Record<string, unknown>, first?: Record<string, unknown>) => h.publish({ steps: [
    ...(first ? [first] : []),
    { id: 'handoff', type: 'task', title: 'Call {{ contact.company }}', fields: [{ name: 'meeting', label: 'Meeting booked?', type: 'checkbox' }],
      onAccepted: 'booked', onRejected: 'rejected', onNoAnswer: 'unanswered', ...task },
    { id: 'booked', type: 'branch', cases: [{ condition: { field: 'approval.handoff.values.meeting', op: 'eq', value: true }, next: 'meeting' }], default: 'no_meeting' },
    { id: 'meeting', type: 'update_contact', addTags: ['meeting'] },
    { id: 'no_meeting', type: 'update_contact', addTags: ['no-meeting'] },
    { id: 'rejected', type: 'update_contact', addTags: ['rejected'] },
    { id: 'unanswered', type: 'update_contact', addTags: ['unanswered'] },
  ] });
  async function enrol(key: string) {
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail('lead'), company: 'Acme' } });
    return e.body as { id: string; workflowId: string };
  }
  const tasksOf = (enrolmentId: string) => h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolmentId)).orderBy(asc(tasks.createdAt));
  const steps = async (workflowId: string) => ((await h.result(workflowId)).path as PathEntry[]).map((p) => `${p.stepId}:${p.outcome}`);

  const auditOf = (enrolmentId: string) => h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, enrolmentId)).orderBy(asc(auditRecords.id));
  const taskRecords = async (enrolmentId: string) => (await auditOf(enrolmentId)).filter((r) => r.action.startsWith('task.'));
  const accept = (id: string, auth: Record<string, string>) => h.api('POST', `/v1/tasks/${id}/accept`, undefined, auth);

  it('the contact owner accepts, then completes with values a later condition reads; a decline takes the rejected branch', async () => {
    const ada = await seller();
    const ben = await seller();
    const key = await handoff({ assignee: { owner: 'contact' }, acceptWithin: '1h', maxReassignments: 0 },
      { id: 'owner', type: 'assign_owner', pool: [ada.email], next: 'handoff' });
    const a = await enrol(key);
    const task = await eventually(async () => (await tasksOf(a.id))[0]);
    expect(task).toMatchObject({ assigneeUserId: ada.id, stepType: 'task', status: 'open', acceptedBy: null });
    expect(task.acceptBy).toBeInstanceOf(Date);
    // Completing is a second act: not before the task is accepted, and only by its holder.
    const early = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { meeting: true } }, ada.auth);
    expect([early.status, early.body.error.code]).toEqual([409, 'task_not_accepted']);
    expect((await accept(task.id, ben.auth)).status).toBe(403);
    const accepted = await accept(task.id, ada.auth);
    expect(accepted.status).toBe(200);
    expect(accepted.body).toMatchObject({ status: 'accepted', stepType: 'task', acceptedBy: ada.id });
    expect((await accept(task.id, ada.auth)).status).toBe(200);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { meeting: 'yes' } }, ada.auth)).status).toBe(422);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { meeting: true } }, ada.auth)).status).toBe(200);
    expect(await steps(a.workflowId)).toEqual(['owner:assigned', 'handoff:accepted', 'booked:case 1', 'meeting:updated']);
    const records = await taskRecords(a.id);
    expect(records.map((r) => r.action)).toEqual(['task.created', 'task.accepted', 'task.decided']);
    expect(records.map((r) => r.stepType)).toEqual(['task', 'task', 'task']);
    expect(records[1]).toMatchObject({ actor: `user:${ada.id}`, details: expect.objectContaining({ acceptedBy: ada.id }) });

    // A decline (onDecline reject, the default) needs no form and ends the step rejected.
    const r = await enrol(key);
    const rt = await eventually(async () => (await tasksOf(r.id))[0]);
    expect((await h.api('POST', `/v1/tasks/${rt.id}/complete`, { decision: 'reject', values: {} }, ada.auth)).status).toBe(200);
    expect((await steps(r.workflowId)).slice(1)).toEqual(['handoff:rejected', 'rejected:updated']);
    expect((await tasksOf(r.id))[0]!.status).toBe('rejected');
  });

  it('shares the assign_owner rotation; not accepted in time it moves to the next in the pool, a decline moves it on too', async () => {
    const ada = await seller();
    const ben = await seller();
    const poolKey = uniqueKey('pool');
    const pool = [ada.email, ben.email];
    const key = await handoff({ assignee: { pool }, poolKey, acceptWithin: '4s', onTimeout: 'next', onDecline: 'next', maxReassignments: 2 },
      { id: 'owner', type: 'assign_owner', pool, poolKey, next: 'handoff' });
    const e = await enrol(key);
    // assign_owner took ada's turn, so the task's rotation turn is ben's.
    const first = await eventually(async () => (await tasksOf(e.id))[0]);
    expect(first.assigneeUserId).toBe(ben.id);
    const second = await eventually(async () => (await tasksOf(e.id))[1]);
    expect(second.assigneeUserId).toBe(ada.id);
    expect((await tasksOf(e.id))[0]).toMatchObject({ status: 'expired', acceptedBy: null });
    expect((await accept(first.id, ben.auth)).status).toBe(409);
    expect((await accept(second.id, ben.auth)).status).toBe(403);
    expect((await accept(second.id, ada.auth)).status).toBe(200);
    expect((await h.api('POST', `/v1/tasks/${second.id}/complete`, { decision: 'reject' }, ada.auth)).status).toBe(200);
    const third = await eventually(async () => (await tasksOf(e.id))[2]);
    expect(third.assigneeUserId).toBe(ben.id);
    expect((await accept(third.id, ben.auth)).status).toBe(200);
    expect((await h.api('POST', `/v1/tasks/${third.id}/complete`, { decision: 'approve', values: { meeting: false } }, ben.auth)).status).toBe(200);
    expect(await steps(e.workflowId)).toEqual(['owner:assigned', 'handoff:accepted', 'booked:default', 'no_meeting:updated']);
    const records = await taskRecords(e.id);
    expect(records.map((r) => r.action)).toEqual([
      'task.created', 'task.expired', 'task.created', 'task.accepted', 'task.decided', 'task.created', 'task.accepted', 'task.decided',
    ]);
    expect(new Set(records.map((r) => r.stepType))).toEqual(new Set(['task']));
    const created = records.filter((r) => r.action === 'task.created').map((r) => r.details as { holder: { user: string }; reassigned: string | null });
    expect(created.map((d) => [d.holder.user, d.reassigned])).toEqual([[ben.email, null], [ada.email, 'not_accepted'], [ben.email, 'declined']]);
  });

  it('ends with no_answer when nobody accepts in time (reminding each holder), or the holder does not complete in time', async () => {
    const ada = await seller();
    const ben = await seller();
    // Escalation: the named user holds the task after the first deadline; nobody accepts, so no_answer.
    const silent = await enrol(await handoff({ assignee: { user: ada.email }, acceptWithin: '3s', remindAfter: '1s', escalateTo: { user: ben.email }, maxReassignments: 1 }));
    expect(await steps(silent.workflowId)).toEqual(['handoff:no_answer', 'unanswered:updated']);
    expect((await tasksOf(silent.id)).map((t) => [t.assigneeUserId, t.status])).toEqual([[ada.id, 'expired'], [ben.id, 'expired']]);
    const records = await taskRecords(silent.id);
    expect(records.map((r) => [r.action, r.stepType])).toEqual([
      ['task.created', 'task'], ['task.reminded', 'task'], ['task.expired', 'task'], ['task.created', 'task'], ['task.reminded', 'task'], ['task.expired', 'task'],
    ]);
    expect(records.filter((r) => r.action === 'task.reminded').map((r) => (r.details as { to: string[] }).to)).toEqual([[ada.id], [ben.id]]);

    // Accepted but never completed: the task expires after completeWithin, and the outcome is no_answer.
    const idle = await enrol(await handoff({ assignee: { user: ada.email }, acceptWithin: '1h', completeWithin: '2s', maxReassignments: 0 }));
    const task = await eventually(async () => (await tasksOf(idle.id))[0]);
    // Once accepted it is due at the completion deadline, 2s on.
    expect((await accept(task.id, ada.auth)).status).toBe(200);
    const accepted = (await tasksOf(idle.id))[0]!;
    expect(accepted.dueAt!.getTime() - accepted.acceptedAt!.getTime()).toBeGreaterThanOrEqual(1_000);
    expect(accepted.dueAt!.getTime() - accepted.acceptedAt!.getTime()).toBeLessThan(10_000);
    expect(await steps(idle.workflowId)).toEqual(['handoff:no_answer', 'unanswered:updated']);
    expect((await tasksOf(idle.id))[0]).toMatchObject({ status: 'expired', acceptedBy: ada.id });
  });

  it('the form page offers the task to accept or decline, then its form to complete', async () => {
    const ada = await seller();
    const e = await enrol(await handoff({ assignee: { user: ada.email }, acceptWithin: '1h', maxReassignments: 0 }));
    const task = await eventually(async () => (await tasksOf(e.id))[0]);
    const page = async () => {
      const r = await h.api('GET', `/tasks/${task.id}`, undefined, ada.auth);
      return { status: r.status, html: r.body as string };
    };
    const post = async (fields: Record<string, string>, csrf: string) => {
      const r = await h.api('POST', `/tasks/${task.id}`, new URLSearchParams({ _csrf: csrf, ...fields }).toString(), { ...ada.auth, 'content-type': 'application/x-www-form-urlencoded' });
      return { status: r.status, html: r.body as string };
    };
    const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const offer = await page();
    expect(offer.status).toBe(200);
    expect(offer.html).toContain('value="accept"');
    expect(offer.html).toContain('>Decline<');
    expect(offer.html).not.toContain('name="meeting"');
    expect((await post({ decision: 'approve', meeting: 'true' }, csrfOf(offer.html))).status).toBe(409);
    const accepted = await post({ decision: 'accept' }, csrfOf(offer.html));
    expect(accepted.status).toBe(200);
    expect(accepted.html).toContain('name="meeting"');
    expect(accepted.html).toContain('>Complete<');
    expect((await tasksOf(e.id))[0]).toMatchObject({ status: 'accepted', acceptedBy: ada.id });
    const done = await post({ decision: 'approve', meeting: 'true' }, csrfOf(accepted.html));
    expect([done.status, done.html.includes('Thank you: completed')]).toEqual([200, true]);
    expect(await steps(e.workflowId)).toEqual(['handoff:accepted', 'booked:case 1', 'meeting:updated']);
  });

  it('a role task is taken by whoever accepts it first', async () => {
    const role = uniqueKey('sdr');
    const [ada, ben] = await Promise.all([0, 1].map(async (i) => {
      const user = await h.api('POST', '/v1/users', { email: uniqueEmail(`sdr${i}`), name: 'SDR', roles: [role] });
      const key = await h.api('POST', '/v1/api-keys', { name: 'sdr', scopes: ['approver'], userId: user.body.id });
      return { id: user.body.id as string, auth: { authorization: `Bearer ${key.body.key}` } };
    }));
    const e = await enrol(await handoff({ assignee: { role }, acceptWithin: '1h', maxReassignments: 0 }));
    const task = await eventually(async () => (await tasksOf(e.id))[0]);
    const inbox = async (auth: Record<string, string>) => ((await h.api('GET', '/v1/tasks?source=journey', undefined, auth)).body.tasks as Array<{ id: string }>).map((t) => t.id);
    expect(await inbox(ben!.auth)).toContain(task.id);
    expect((await accept(task.id, ada!.auth)).status).toBe(200);
    expect((await accept(task.id, ben!.auth)).status).toBe(403);
    expect(await inbox(ben!.auth)).not.toContain(task.id);
    expect(await inbox(ada!.auth)).toContain(task.id);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'reject' }, ben!.auth)).status).toBe(403);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'reject' }, ada!.auth)).status).toBe(200);
    expect(await steps(e.workflowId)).toEqual(['handoff:rejected', 'rejected:updated']);
  });

  it('an approval task takes no acceptance', async () => {
    const ada = await seller();
    const key = await h.publish({ steps: [{ id: 'ok', type: 'approval', title: 'OK?', assignee: { user: ada.email } }] });
    const e = await enrol(key);
    const task = await eventually(async () => (await tasksOf(e.id))[0]);
    expect(task.stepType).toBe('approval');
    const r = await accept(task.id, ada.auth);
    expect([r.status, r.body.error.code]).toEqual([409, 'task_not_acceptable']);
    await h.api('POST', `/v1/enrolments/${e.id}/cancel`, { reason: 'test' });
  });

  it('publish refuses a bad task step with 422 naming the step and field', async () => {
    const refused = async (step: Record<string, unknown>) => {
      const key = uniqueKey();
      await h.api('POST', '/v1/journeys', { key, name: key, definition: { steps: [{ id: 'handoff', type: 'task', title: 'Call', ...step }] } });
      const r = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(r.status).toBe(422);
      return (r.body.error.details.problems as Array<{ path: string; stepId: string }>).map((p) => `${p.stepId} ${p.path}`);
    };
    const ada = await seller();
    expect(await refused({ assignee: { user: ada.email }, onTimeout: 'next' })).toContain('handoff definition.steps[0].onTimeout');
    expect(await refused({ assignee: { user: ada.email }, maxReassignments: 0, onAccepted: 'nowhere' })).toContain('handoff definition.steps[0].onAccepted');
    expect(await refused({ assignee: { user: ada.email }, maxReassignments: 0, fields: [{ name: 'pick', label: 'Pick', type: 'select' }] })).toContain('handoff definition.steps[0].fields[0].options');
    expect(await refused({ assignee: { pool: [ada.email, uniqueEmail('nobody')] }, onTimeout: 'next' })).toContain('handoff definition.steps[0].assignee.pool[1]');
  });

  it('publishes the shipped lead-handoff example', async () => {
    // Its escalation role must have a member.
    await h.api('POST', '/v1/users', { email: uniqueEmail('lead'), name: 'Sales lead', roles: ['sales-lead'] });
    const definition = JSON.parse(readFileSync(path.join(__dirname, '../../docs/examples/lead-handoff.journey.json'), 'utf8'));
    await expect(h.publish(definition)).resolves.toEqual(expect.any(String));
  });
});

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

  it('the contact owner accepts with values a later condition reads; a rejection takes its own branch', async () => {
    const ada = await seller();
    const ben = await seller();
    const key = await handoff({ assignee: { owner: 'contact' }, acceptWithin: '1h', maxReassignments: 0 },
      { id: 'owner', type: 'assign_owner', pool: [ada.email], next: 'handoff' });
    const a = await enrol(key);
    const task = await eventually(async () => (await tasksOf(a.id))[0]);
    expect(task.assigneeUserId).toBe(ada.id);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { meeting: true } }, ben.auth)).status).toBe(403);
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { meeting: true } }, ada.auth)).status).toBe(200);
    expect(await steps(a.workflowId)).toEqual(['owner:assigned', 'handoff:accepted', 'booked:case 1', 'meeting:updated']);
    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, a.id));
    expect(audit.map((r) => r.action)).toEqual(expect.arrayContaining(['task.created', 'task.decided']));

    const r = await enrol(key);
    const rt = await eventually(async () => (await tasksOf(r.id))[0]);
    expect((await h.api('POST', `/v1/tasks/${rt.id}/complete`, { decision: 'reject', values: {} }, ada.auth)).status).toBe(200);
    expect((await steps(r.workflowId)).slice(1)).toEqual(['handoff:rejected', 'rejected:updated']);
  });

  it('not accepted in time moves to the next person in the pool, then ends with no answer', async () => {
    const ada = await seller();
    const ben = await seller();
    const key = await handoff({ assignee: { pool: [ada.email, ben.email] }, acceptWithin: '2s', onTimeout: 'next', maxReassignments: 1 });
    const e = await enrol(key);
    const second = await eventually(async () => (await tasksOf(e.id))[1]);
    expect(second.assigneeUserId).toBe(ben.id);
    expect((await tasksOf(e.id))[0]).toMatchObject({ assigneeUserId: ada.id, status: 'expired' });
    expect((await h.api('POST', `/v1/tasks/${second.id}/complete`, { decision: 'approve', values: { meeting: false } }, ada.auth)).status).toBe(403);
    expect((await h.api('POST', `/v1/tasks/${second.id}/complete`, { decision: 'approve', values: { meeting: false } }, ben.auth)).status).toBe(200);
    expect(await steps(e.workflowId)).toEqual(['handoff:accepted', 'booked:default', 'no_meeting:updated']);

    // Escalation: the named user holds the task after the first deadline; nobody answers, so no_answer.
    const silent = await enrol(await handoff({ assignee: { user: ada.email }, acceptWithin: '1s', escalateTo: { user: ben.email }, maxReassignments: 1 }));
    expect(await steps(silent.workflowId)).toEqual(['handoff:no_answer', 'unanswered:updated']);
    expect((await tasksOf(silent.id)).map((t) => [t.assigneeUserId, t.status])).toEqual([[ada.id, 'expired'], [ben.id, 'expired']]);
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

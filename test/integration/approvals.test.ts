import { eq } from 'drizzle-orm';
import { auditRecords, tasks } from '../../db/schema';
import { digestOf } from '../../services/audit/records';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

const fields = [
  { name: 'discount', label: 'Discount (%)', type: 'number', required: true, min: 0, max: 30 },
  { name: 'tier', label: 'Tier', type: 'select', options: ['silver', 'gold'], required: true },
  { name: 'note', label: 'Note', type: 'long_text' },
];

describe('approvals', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function approver(roles: string[] = []) {
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    return { id: user.body.id as string, email: user.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  async function journeyWithApproval(step: Record<string, unknown>) {
    return h.publish({ steps: [
      { id: 'approve', type: 'approval', title: 'Discount for {{ contact.company }}', fields, expireAfter: '1h', onApprove: 'check', onReject: 'rejected', onExpire: 'expired', ...step },
      { id: 'check', type: 'branch', cases: [{ condition: { field: 'approval.approve.values.discount', op: 'gte', value: 20 }, next: 'big' }], default: 'small' },
      { id: 'big', type: 'update_contact', addTags: ['big-discount'] },
      { id: 'small', type: 'update_contact', addTags: ['small-discount'] },
      { id: 'rejected', type: 'update_contact', addTags: ['rejected'] },
      { id: 'expired', type: 'update_contact', addTags: ['expired'] },
    ] });
  }
  async function openTask(key: string) {
    const e = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail(), company: 'Acme' } });
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, e.body.id)))[0]);
    return { enrolment: e.body, taskId: task.id };
  }

  it('approve and reject take their paths; later steps read the decision; others get 403, a second completion 409', async () => {
    const ada = await approver();
    const ben = await approver();
    const key = await journeyWithApproval({ assignee: { user: ada.email } });
    const a = await openTask(key);
    const inbox = await h.api('GET', '/v1/tasks', undefined, ada.auth);
    expect(inbox.body.tasks.map((t: { id: string }) => t.id)).toContain(a.taskId);
    expect((await h.api('GET', '/v1/tasks', undefined, ben.auth)).body.tasks.map((t: { id: string }) => t.id)).not.toContain(a.taskId);

    const decision = { decision: 'approve', values: { discount: 25, tier: 'gold' }, comment: 'ok' };
    expect((await h.api('POST', `/v1/tasks/${a.taskId}/complete`, decision, ben.auth)).status).toBe(403);
    const service = await h.api('POST', `/v1/tasks/${a.taskId}/complete`, decision, { authorization: `Bearer ${h.keys.service}` });
    expect(service.status).toBe(403);
    const bad = await h.api('POST', `/v1/tasks/${a.taskId}/complete`, { decision: 'approve', values: { discount: 50, tier: 'platinum', extra: 1 } }, ada.auth);
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems.map((p: { path: string }) => p.path).sort()).toEqual(['body.values.discount', 'body.values.extra', 'body.values.tier']);

    const done = await h.api('POST', `/v1/tasks/${a.taskId}/complete`, decision, ada.auth);
    expect(done.status).toBe(200);
    expect(done.body).toMatchObject({ status: 'approved', decision: 'approve', values: { discount: 25, tier: 'gold' }, decidedBy: ada.id });
    expect((await h.api('POST', `/v1/tasks/${a.taskId}/complete`, decision, ada.auth)).status).toBe(409);
    const result = await h.result(a.enrolment.workflowId);
    expect(result.path.map((p: { stepId: string; outcome: string }) => `${p.stepId}:${p.outcome}`)).toEqual(['approve:approved', 'check:case 1', 'big:updated']);

    const r = await openTask(key);
    expect((await h.api('POST', `/v1/tasks/${r.taskId}/complete`, { decision: 'reject', values: { discount: 0, tier: 'silver' } }, ada.auth)).status).toBe(200);
    expect((await h.result(r.enrolment.workflowId)).path.at(-1)).toMatchObject({ stepId: 'rejected' });
    const audit = await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, a.enrolment.id));
    // Digests of the values and the comment, not them: the audit trail cannot forget what an approver wrote.
    expect(audit.find((x) => x.action === 'task.decided')).toMatchObject({
      actor: `user:${ada.id}`, details: expect.objectContaining({ valuesDigest: digestOf({ discount: 25, tier: 'gold' }), commentDigest: digestOf('ok') }),
    });
    expect(JSON.stringify(audit.map((x) => x.details))).not.toContain('gold');
  });

  it('two concurrent completions: exactly one wins', async () => {
    const role = uniqueKey('mgr');
    const [x, y] = [await approver([role]), await approver([role])];
    const key = await journeyWithApproval({ assignee: { role } });
    const t = await openTask(key);
    const answers = await Promise.all([x, y].map((who) => h.api('POST', `/v1/tasks/${t.taskId}/complete`, { decision: 'approve', values: { discount: 5, tier: 'silver' } }, who.auth)));
    expect(answers.map((r) => r.status).sort()).toEqual([200, 409]);
    expect((await h.result(t.enrolment.workflowId)).path.at(-1)).toMatchObject({ stepId: 'small' });
  });

  it('reminds, escalates and expires in order; the escalation target may decide once escalated', async () => {
    const owner = await approver();
    const boss = await approver();
    const key = await journeyWithApproval({ assignee: { user: owner.email }, remindAfter: '1s', escalateAfter: '2s', escalateTo: { user: boss.email }, expireAfter: '4s' });
    const t = await openTask(key);
    expect((await h.api('POST', `/v1/tasks/${t.taskId}/complete`, { decision: 'approve', values: { discount: 1, tier: 'gold' } }, boss.auth)).status).toBe(403);
    const result = await h.result(t.enrolment.workflowId);
    expect(result.path[0]).toMatchObject({ stepId: 'approve', outcome: 'expired' });
    const actions = (await h.database.db.select().from(auditRecords).where(eq(auditRecords.enrolmentId, t.enrolment.id)).orderBy(auditRecords.id))
      .map((a) => a.action).filter((a) => a.startsWith('task.'));
    expect(actions).toEqual(['task.created', 'task.reminded', 'task.escalated', 'task.expired']);
    const mails = (address: string) => h.smtp.to(address).map((m) => m.parsed.subject);
    expect(mails(owner.email).map((s) => s!.split(':')[0])).toEqual(['You have a task to decide', 'Reminder']);
    expect(mails(boss.email).map((s) => s!.split(':')[0])).toEqual(['A task was escalated to you']);

    const escalated = await openTask(await journeyWithApproval({ assignee: { user: owner.email }, escalateAfter: '1s', escalateTo: { user: boss.email } }));
    await eventually(async () => (await h.api('GET', `/v1/tasks/${escalated.taskId}`)).body.escalation.escalatedAt !== null);
    expect((await h.api('POST', `/v1/tasks/${escalated.taskId}/complete`, { decision: 'approve', values: { discount: 1, tier: 'gold' } }, boss.auth)).status).toBe(200);
  });

  it('the emailed link opens the form once; a used or forged link is refused', async () => {
    const ada = await approver();
    const key = await journeyWithApproval({ assignee: { user: ada.email } });
    const t = await openTask(key);
    const mail = await eventually(async () => h.smtp.to(ada.email).find((m) => String(m.parsed.text).includes(t.taskId)));
    const link = /(http\S+\/tasks\/\S+)/.exec(String(mail.parsed.text))![1]!;
    const form = await fetch(link);
    expect(form.status).toBe(200);
    expect(form.headers.get('referrer-policy')).toBe('no-referrer');
    const html = await form.text();
    expect(html).toContain('<label for="f-discount">Discount (%)');
    const csrf = /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
    const token = new URL(link).searchParams.get('token')!;
    const post = (fieldsIn: Record<string, string>) => fetch(`${h.baseUrl}/tasks/${t.taskId}`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, _csrf: csrf, ...fieldsIn }).toString(),
    });
    const invalid = await post({ decision: 'approve', discount: '99', tier: 'gold' });
    expect(invalid.status).toBe(422);
    expect(await invalid.text()).toContain('Discount (%) must be at most 30');
    expect((await fetch(`${h.baseUrl}/tasks/${t.taskId}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ token, _csrf: 'forged', decision: 'approve' }).toString() })).status).toBe(403);
    const ok = await post({ decision: 'approve', discount: '10', tier: 'silver' });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain('You approved');
    expect((await fetch(link)).status).toBe(410);
    expect((await fetch(`${h.baseUrl}/tasks/${t.taskId}?token=forged.token`)).status).toBe(400);
    expect((await h.result(t.enrolment.workflowId)).path.at(-1)).toMatchObject({ stepId: 'small' });
  });
});

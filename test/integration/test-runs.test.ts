import { eq, inArray, or } from 'drizzle-orm';
import { WorkflowUpdateFailedError } from '@temporalio/client';
import { auditRecords, contacts, ownerPools, tasks } from '../../db/schema';
import { digestOf } from '../../services/audit/records';
import { decideTaskUpdate, DecisionRefusal, sandboxApprover } from '../../workflows/contract';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

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
      events: [{ ref: 'alice', name: 'demo_booked', after: '60h' }, { ref: 'carol', name: 'purchased', after: '12h' }],
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

    // Every record of the run, by enrolment and by contact (scripted events' deliveries too), is marked test.
    const audit = await h.database.db.select().from(auditRecords).where(or(
      inArray(auditRecords.enrolmentId, run.body.contacts.map((c: { enrolmentId: string }) => c.enrolmentId)),
      inArray(auditRecords.contactId, run.body.contacts.map((c: { contactId: string }) => c.contactId)),
    ));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['enrolment.started', 'event.delivered', 'email.captured', 'enrolment.converted']));
    expect(audit.filter((a) => !a.test).map((a) => a.action)).toEqual([]);
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

  async function approver(roles: string[] = []) {
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id });
    return { id: user.body.id as string, email: user.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }

  it('tries approvals end to end: scripted decisions take their paths, nobody real is emailed or assigned, every record is test', async () => {
    const [ada, boss] = [await approver(), await approver()];
    const poolKey = uniqueKey('pool');
    const key = await h.publish({ steps: [
      { id: 'owner', type: 'assign_owner', pool: ['rep-a@example.com', 'rep-b@example.com'], poolKey, next: 'review' },
      {
        id: 'review', type: 'approval', title: 'Review {{ contact.firstName }}', assignee: { user: ada.email }, escalateTo: { user: boss.email },
        fields: [{ name: 'note', label: 'Note', type: 'text', required: true }],
        remindAfter: '1h', escalateAfter: '90m', expireAfter: '1d', onApprove: 'approved', onReject: 'rejected', onExpire: 'expired',
      },
      { id: 'approved', type: 'update_contact', addTags: ['approved'] },
      { id: 'rejected', type: 'update_contact', addTags: ['rejected'] },
      { id: 'expired', type: 'update_contact', addTags: ['expired'] },
    ] });
    const post = await h.api('POST', `/v1/journeys/${key}/test-runs`, {
      contacts: [{ ref: 'alice', firstName: 'Alice' }, { ref: 'bob', firstName: 'Bob' }],
      decisions: [
        { ref: 'alice', decide: 'approve', values: { note: 'fine' }, after: '2h' },
        { ref: 'bob', step: 'review', decide: 'reject', values: { note: 'no' }, after: '2h' },
      ],
      timeScale: 3_600, waitSeconds: 0,
    });
    expect(post.status).toBe(201);
    const run = await eventually(async () => {
      const r = await h.api('GET', `/v1/journeys/${key}/test-runs/${post.body.id}`);
      return r.body.status === 'finished' && r.body;
    });
    const byRef = Object.fromEntries(run.contacts.map((c: { ref: string }) => [c.ref, c]));
    const steps = (ref: string) => [...new Set(byRef[ref].path.map((p: { stepId: string }) => p.stepId))];
    expect(steps('alice')).toEqual(['owner', 'review', 'approved']);
    expect(steps('bob')).toEqual(['owner', 'review', 'rejected']);
    expect(byRef.alice.status).toBe('completed');
    // Reminded and escalated in journey time before the decision, through the normal path.
    const actions = (ref: string) => byRef[ref].path.map((p: { action: string; outcome: string }) => `${p.action}:${p.outcome}`);
    expect(actions('alice')).toEqual(expect.arrayContaining(['owner.assigned:sandboxed', 'task.created:open', 'task.reminded:reminded', 'task.escalated:escalated', 'task.decided:approved']));
    expect(actions('bob')).toContain('task.decided:rejected');

    // Nobody real emailed; the tasks are test tasks, in nobody's inbox, decided by the run's sandbox approver.
    expect(h.smtp.to(ada.email)).toHaveLength(0);
    expect(h.smtp.to(boss.email)).toHaveLength(0);
    const enrolmentIds = run.contacts.map((c: { enrolmentId: string }) => c.enrolmentId);
    const rows = await h.database.db.select().from(tasks).where(inArray(tasks.enrolmentId, enrolmentIds));
    expect(rows.map((t) => `${t.test}:${t.status}:${t.decidedBy}`).sort()).toEqual(['true:approved:null', 'true:rejected:null']);
    for (const who of [ada, boss]) {
      const inbox = (await h.api('GET', '/v1/tasks', undefined, who.auth)).body.tasks.map((t: { id: string }) => t.id);
      expect(inbox.filter((id: string) => rows.some((t) => t.id === id))).toEqual([]);
    }

    // Owner rotation did not turn and no contact got an owner; the record names whose turn it was.
    expect(await h.database.db.select().from(ownerPools).where(eq(ownerPools.key, poolKey))).toEqual([]);
    const contactIds = run.contacts.map((c: { contactId: string }) => c.contactId);
    expect((await h.database.db.select().from(contacts).where(inArray(contacts.id, contactIds))).map((c) => c.owner)).toEqual([null, null]);

    // Every audit record of the run (its enrolments and its contacts) is marked test.
    const audit = await h.database.db.select().from(auditRecords)
      .where(or(inArray(auditRecords.enrolmentId, enrolmentIds), inArray(auditRecords.contactId, contactIds)));
    expect(audit.map((a) => a.action)).toEqual(expect.arrayContaining(['enrolment.started', 'owner.assigned', 'task.created', 'task.reminded', 'task.escalated', 'task.decided', 'enrolment.completed']));
    expect(audit.filter((a) => !a.test).map((a) => a.action)).toEqual([]);
    const decided = audit.find((a) => a.action === 'task.decided' && a.enrolmentId === byRef.alice.enrolmentId)!;
    // The record holds the values' digest (the task row holds the values).
    expect(decided).toMatchObject({ actor: sandboxApprover(run.id), details: expect.objectContaining({ valuesDigest: digestOf({ note: 'fine' }), sandboxed: true }) });
    expect(audit.find((a) => a.action === 'owner.assigned')!.details).toMatchObject({ owner: 'rep-a@example.com' });
  });

  it('refuses decisions it cannot script, and a real task never accepts a sandbox approver', async () => {
    const role = uniqueKey('mgr');
    const real = await approver([role]);
    const key = await h.publish({ steps: [
      { id: 'review', type: 'approval', title: 'Review', assignee: { role }, fields: [{ name: 'note', label: 'Note', type: 'text', required: true }], expireAfter: '1h', onApprove: 'done' },
      { id: 'done', type: 'update_contact', addTags: ['done'] },
    ] });
    const bad = await h.api('POST', `/v1/journeys/${key}/test-runs`, {
      contacts: [{ ref: 'x' }],
      decisions: [{ ref: 'y', decide: 'approve', values: { note: 'a' }, after: '1h' }, { ref: 'x', step: 'done', decide: 'approve', after: '1h' }, { ref: 'x', decide: 'reject', values: {}, after: '1h' }],
    });
    expect(bad.status).toBe(422);
    expect(bad.body.error.details.problems.map((p: { path: string }) => p.path)).toEqual(['body.decisions.0.ref', 'body.decisions.1.step', 'body.decisions.2.values.note']);

    // A real enrolment's task refuses the synthetic actor, even one that claims the task's role.
    const enrolment = await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } });
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolment.body.id)))[0]);
    expect(task.test).toBe(false);
    const attempt = h.client.workflow.getHandle(enrolment.body.workflowId).executeUpdate(decideTaskUpdate, {
      args: [{ taskId: task.id, decision: 'approve', values: { note: 'sneaky' }, actor: { userId: sandboxApprover('any-run'), roles: [role] } }],
    });
    await expect(attempt).rejects.toBeInstanceOf(WorkflowUpdateFailedError);
    await attempt.catch((err: WorkflowUpdateFailedError) => expect(err.cause).toMatchObject({ type: DecisionRefusal.notAllowed }));
    expect((await h.api('GET', '/v1/tasks', undefined, real.auth)).body.tasks.map((t: { id: string }) => t.id)).toContain(task.id);
  });
});

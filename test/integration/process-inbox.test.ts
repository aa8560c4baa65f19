import { eq } from 'drizzle-orm';
import { tasks } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

type InboxTask = { id: string; source: 'journey' | 'process'; taskId?: string; processKey?: string; runId?: string; kind?: string; fields?: unknown[] };

/** Process tasks in the approver inbox beside journey approvals, and acted on from the form page, on the real stack. */
describe('process tasks in the inbox and on the form page', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  async function user(roles: string[] = []) {
    const created = await h.api('POST', '/v1/users', { email: uniqueEmail('inbox'), name: 'Inbox User', roles });
    const key = await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: created.body.id });
    return { id: created.body.id as string, email: created.body.email as string, auth: { authorization: `Bearer ${key.body.key}` } };
  }
  const inbox = async (auth: Record<string, string>, query = '') => (await h.api('GET', `/v1/tasks${query}`, undefined, auth)).body.tasks as InboxTask[];
  const form = (fields: Record<string, string>) => new URLSearchParams(fields).toString();
  const post = (id: string, auth: Record<string, string>, fields: Record<string, string>) =>
    h.api('POST', `/tasks/${id}`, form(fields), { ...auth, 'content-type': 'application/x-www-form-urlencoded' });
  const csrfOf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;

  it('lists both kinds with a source, pages across them, and takes a process task from the form page', async () => {
    const role = `ops-${uniqueKey('r').slice(-8)}`;
    const ann = await user([role]);
    const bob = await user();
    const journey = await h.publish({ steps: [{ id: 'ask', type: 'approval', title: 'Ask', assignee: { user: ann.email } }] });
    const enrolment = await h.api('POST', `/v1/journeys/${journey}/enrolments`, { contact: { email: uniqueEmail('c') } });
    const approval = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolment.body.id)))[0]);

    const key = uniqueKey('inbox');
    await h.api('POST', '/v1/processes', { key, name: 'Inbox', definition: { sections: [{ title: 'Work', tasks: [
      { id: 'tick', kind: 'checklist', title: 'Tick it', assignee: { role } },
      { id: 'brief', kind: 'form', title: 'Brief <b>it</b>', assignee: { user: ann.email }, fields: [{ name: 'audience', label: 'Audience', type: 'text', required: true }] },
      { id: 'sign', kind: 'approval', title: 'Sign', approvers: [{ userId: bob.id }], after: ['brief'] },
      { id: 'free', kind: 'checklist', title: 'Anyone' },
    ] }] } });
    expect((await h.api('POST', `/v1/processes/${key}/publish`)).status).toBe(201);
    const run = (await h.api('POST', `/v1/processes/${key}/runs`, {})).body;
    await eventually(async () => (await h.api('GET', `/v1/processes/${key}/runs/${run.id}`)).body.tasks.filter((t: { status: string }) => t.status === 'open').length === 3);

    const mine = await inbox(ann.auth);
    expect(mine.find((t) => t.id === approval.id)).toMatchObject({ source: 'journey', journeyKey: journey });
    const ours = mine.filter((t) => t.runId === run.id);
    expect(ours.map((t) => `${t.source}:${t.taskId}:${t.kind}`).sort()).toEqual(['process:brief:form', 'process:tick:checklist']);
    const brief = ours.find((t) => t.taskId === 'brief')!;
    expect(brief).toMatchObject({ processKey: key, section: 'Work', status: 'open', fields: [{ name: 'audience' }] });
    expect((await inbox(bob.auth)).filter((t) => t.runId === run.id)).toEqual([]);
    expect((await h.api('GET', `/v1/tasks/${brief.id}`, undefined, ann.auth)).body).toMatchObject({ source: 'process', taskId: 'brief', runId: run.id });
    expect((await h.api('GET', `/v1/tasks/${brief.id}`, undefined, bob.auth)).status).toBe(403);
    expect((await h.api('GET', `/v1/tasks/${approval.id}`, undefined, ann.auth)).body).toMatchObject({ source: 'journey', id: approval.id });
    // An unassigned task is in the admin's inbox, not every approver's.
    expect((await inbox({})).some((t) => t.runId === run.id && t.taskId === 'free')).toBe(true);
    expect((await inbox(ann.auth, '?source=process')).every((t) => t.source === 'process')).toBe(true);
    expect((await inbox(ann.auth, '?source=journey')).map((t) => t.id)).toEqual([approval.id]);

    // Pages of one cross both tables without repeats or gaps.
    const walked: string[] = [];
    let after = '';
    for (let i = 0; i < 10; i++) {
      const page = (await h.api('GET', `/v1/tasks?limit=1${after}`, undefined, ann.auth)).body;
      walked.push(...page.tasks.map((t: InboxTask) => t.id));
      if (!page.nextCursor) break;
      after = `&after=${page.nextCursor}`;
    }
    expect(walked).toEqual(mine.map((t) => t.id));

    // The form page: only the assignee, with a CSRF token of their session, fields checked, through the run's update.
    expect((await h.api('GET', `/tasks/${brief.id}`, undefined, bob.auth)).status).toBe(403);
    expect((await h.api('GET', `/tasks/${brief.id}?token=forged`, undefined, { authorization: '' })).status).toBe(400);
    const page = await h.api('GET', `/tasks/${brief.id}`, undefined, ann.auth);
    expect(page.status).toBe(200);
    expect(String(page.body)).toContain('Brief &lt;b&gt;it&lt;/b&gt;');
    expect(String(page.body)).toContain('value="complete">Submit</button>');
    const csrf = csrfOf(String(page.body));
    expect((await post(brief.id, ann.auth, { _csrf: 'forged', decision: 'complete', audience: 'x' })).status).toBe(403);
    const missing = await post(brief.id, ann.auth, { _csrf: csrf, decision: 'complete' });
    expect(missing.status).toBe(422);
    expect(String(missing.body)).toContain('aria-invalid="true"');
    expect((await post(brief.id, ann.auth, { _csrf: csrf, decision: 'approve', audience: 'ops' })).status).toBe(422);
    const done = await post(brief.id, ann.auth, { _csrf: csrf, decision: 'complete', audience: 'ops' });
    expect(done.status).toBe(200);
    expect(String(done.body)).toContain('Thank you: done');
    const view = (await h.api('GET', `/v1/processes/${key}/runs/${run.id}`)).body;
    expect(view.tasks.find((t: { taskId: string }) => t.taskId === 'brief')).toMatchObject({ status: 'done', completedBy: ann.id });
    expect((await post(brief.id, ann.auth, { _csrf: csrf, decision: 'complete', audience: 'ops' })).status).toBe(409);
    expect((await inbox(ann.auth, '?status=done')).map((t) => t.id)).toContain(brief.id);

    // The approval reaches bob's inbox; he rejects it from the form page.
    const sign = await eventually(async () => (await inbox(bob.auth)).find((t) => t.runId === run.id && t.taskId === 'sign'));
    const signPage = await h.api('GET', `/tasks/${sign.id}`, undefined, bob.auth);
    expect(String(signPage.body)).toContain('value="reject"');
    const rejected = await post(sign.id, bob.auth, { _csrf: csrfOf(String(signPage.body)), decision: 'reject', comment: 'not yet' });
    expect(rejected.status).toBe(200);
    const exported = (await h.api('GET', `/v1/processes/${key}/runs/${run.id}/export`)).body;
    expect(exported.checklist.find((t: { taskId: string }) => t.taskId === 'sign')).toMatchObject({ status: 'rejected', completedBy: bob.id });
    await h.client.workflow.getHandle(run.workflowId).terminate('test over');
  });
});

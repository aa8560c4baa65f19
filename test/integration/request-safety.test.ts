import { eq } from 'drizzle-orm';
import { tasks } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';

/** Hostile requests against the real stack: definitions that would hang or exhaust a process. */
describe('journey definitions from strangers', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  const approval = (pattern: string) => ({
    steps: [{ id: 'review', type: 'approval', title: 'Review', assignee: { role: 'sales' }, fields: [{ name: 'ref', label: 'Reference', type: 'text' }, { name: 'code', label: 'Code', type: 'text', pattern }] }],
  });

  it('refuses a form pattern RE2 cannot run safely at publish, naming the field', async () => {
    for (const pattern of ['^(a+)\\1$', '^(?=.*\\d).+$', '(?<!x)y']) {
      const key = uniqueKey('pattern');
      expect((await h.api('POST', '/v1/journeys', { key, name: key, definition: approval(pattern) })).status).toBe(201);
      const published = await h.api('POST', `/v1/journeys/${key}/publish`);
      expect(published.status).toBe(422);
      expect(published.body.error.details.problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].fields[1].pattern', stepId: 'review' })]);
    }
  });

  it('matches a pattern that backtracks in JavaScript in linear time, in the API and in the workflow', async () => {
    const role = uniqueKey('reviewers');
    const user = await h.api('POST', '/v1/users', { email: uniqueEmail('approver'), name: 'Approver', roles: [role] });
    const auth = { authorization: `Bearer ${(await h.api('POST', '/v1/api-keys', { name: 'approver', scopes: ['approver'], userId: user.body.id })).body.key}` };
    const key = await h.publish({ steps: [
      { id: 'review', type: 'approval', title: 'Review', assignee: { role }, fields: [{ name: 'code', label: 'Code', type: 'text', pattern: '^(a+)+$' }], onApprove: 'done' },
      { id: 'done', type: 'update_contact', addTags: ['reviewed'] },
    ] });
    const enrolment = (await h.api('POST', `/v1/journeys/${key}/enrolments`, { contact: { email: uniqueEmail() } })).body;
    const task = await eventually(async () => (await h.database.db.select().from(tasks).where(eq(tasks.enrolmentId, enrolment.id)))[0]);
    const started = Date.now();
    const evil = await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { code: `${'a'.repeat(5_000)}!` } }, auth);
    expect(evil.status).toBe(422);
    expect(Date.now() - started).toBeLessThan(2_000);
    // A matching value passes the API's check and the workflow's update validator (re2js in the sandbox).
    expect((await h.api('POST', `/v1/tasks/${task.id}/complete`, { decision: 'approve', values: { code: 'aaaa' } }, auth)).status).toBe(200);
    expect((await h.result(enrolment.workflowId)).path.map((p: { stepId: string }) => p.stepId)).toEqual(['review', 'done']);
  });

  it('caps condition depth at publish and the size of a definition when it is stored', async () => {
    let condition: unknown = { field: 'contact.score', op: 'gte', value: 1 };
    for (let i = 0; i < 11; i++) condition = { not: condition };
    const key = uniqueKey('deep');
    const definition = { steps: [{ id: 'b', type: 'branch', cases: [{ condition, next: 'w' }] }, { id: 'w', type: 'wait', duration: '1d' }] };
    expect((await h.api('POST', '/v1/journeys', { key, name: key, definition })).body.draftProblems).toEqual([expect.objectContaining({ path: 'definition.steps[0].cases[0].condition' })]);
    const published = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(published.status).toBe(422);
    expect(published.body.error.details.problems[0].message).toMatch(/nest at most 10 deep/);

    const big = { steps: [{ id: 'n', type: 'notify', url: 'https://hooks.example.com/x', body: { blob: 'x'.repeat(300 * 1024) } }] };
    const refused = await h.api('POST', '/v1/journeys', { key: uniqueKey('big'), name: 'big', definition: big });
    expect(refused.status).toBe(422);
    expect(refused.body.error).toMatchObject({ code: 'definition_too_large', details: { problems: [{ path: 'definition' }] } });
    const draft = await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: big });
    expect(draft.status).toBe(422);
    expect(draft.body.error.details.problems[0].path).toBe('definition');
  });
});

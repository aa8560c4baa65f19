import { eq } from 'drizzle-orm';
import { auditRecords } from '../../db/schema';
import { eventually, startHarness, uniqueEmail, uniqueKey, type Harness } from '../support/harness';
import { decide, setUp } from '../support/review-process';

type Version = { version: number; status: string; savedBy: string | null; review: { processKey: string; runId: string; workflowId: string } | null; decidedAt: string | null };

const save = (h: Harness, key: string, subject: string, auth?: Record<string, string>) =>
  h.api('POST', '/v1/templates', { key, subject, text: `${subject}, {{ contact.firstName }}` }, auth);

async function versionOf(h: Harness, key: string, version: number, settled = true): Promise<Version> {
  return eventually(async () => {
    const found = ((await h.api('GET', `/v1/templates/${key}`)).body.versions as Version[]).find((v) => v.version === version);
    return found && (!settled || found.status !== 'pending_review') && found;
  });
}

const taskOpen = (h: Harness, processKey: string, runId: string) =>
  eventually(async () => (await h.api('GET', `/v1/processes/${processKey}/runs/${runId}`)).body.tasks[0].status === 'open');

/** A journey that sends the template, published as the operator: the template version it pins, or the refusal. */
async function pinned(h: Harness, template: string, templateVersion?: number) {
  const key = uniqueKey('uses');
  const step = { id: 'hello', type: 'send_email', template, ...(templateVersion ? { templateVersion } : {}) };
  await h.api('POST', '/v1/journeys', { key, name: 'Uses', definition: { steps: [step] } });
  const published = await h.api('POST', `/v1/journeys/${key}/publish`);
  if (published.status !== 201) return { key, status: published.status, error: published.body.error };
  const version = await h.api('GET', `/v1/journeys/${key}/versions/1`);
  return { key, status: published.status, templateVersion: version.body.definition.steps[0].templateVersion as number };
}

describe('template review policy (a template with its own review process)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('a new version waits for its review (202); journeys cannot pin it; its author cannot approve; a second person\'s approval makes it usable, audited', async () => {
    const { processKey, author, reviewer } = await setUp(h);
    const key = uniqueKey('tpl');
    const first = await save(h, key, 'First', author.auth);
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ version: 1, status: 'approved', savedBy: `user:${author.id}`, review: null });
    const policy = await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: processKey });
    expect(policy.body).toEqual({ key, reviewProcess: processKey });

    const started = await save(h, key, 'Second', author.auth);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ version: 2, status: 'pending_review', savedBy: `user:${author.id}`, review: { processKey } });
    const { runId, workflowId } = started.body.review;
    expect(workflowId).toBe(`process:${processKey}:${runId}`);
    expect((await h.api('GET', `/v1/templates/${key}`)).body.reviewProcess).toBe(processKey);

    // No journey publish pins the pending version: the latest approved one is pinned, and naming it is refused.
    expect(await pinned(h, key)).toMatchObject({ status: 201, templateVersion: 1 });
    const named = await pinned(h, key, 2);
    expect(named.status).toBe(422);
    expect(named.error.details.problems[0]).toMatchObject({ path: 'definition.steps[0].template', stepId: 'hello' });
    expect(named.error.details.problems[0].message).toMatch(/^step "hello": template ".*@2" is waiting for its review/);

    // Four eyes: whoever saved the version cannot approve it, with their admin key.
    await taskOpen(h, processKey, runId);
    const own = await decide(h, processKey, runId, 'approve', author.auth);
    expect(own.status).toBe(403);
    expect(own.body.error).toMatchObject({ code: 'four_eyes' });
    expect(own.body.error.message).toMatch(/four eyes: whoever saved version 2 of template/);
    expect((await versionOf(h, key, 2, false)).status).toBe('pending_review');

    expect((await decide(h, processKey, runId, 'approve', reviewer.auth)).status).toBe(200);
    expect(await versionOf(h, key, 2)).toMatchObject({ status: 'approved', decidedAt: expect.any(String) });
    const usable = await pinned(h, key);
    expect(usable).toMatchObject({ status: 201, templateVersion: 2 });

    // The approved version is the one sent.
    const email = uniqueEmail('reader');
    expect((await h.api('POST', `/v1/journeys/${usable.key}/enrolments`, { contact: { email, firstName: 'Ada' } })).status).toBe(201);
    const [message] = await eventually(async () => h.smtp.to(email).length ? h.smtp.to(email) : undefined);
    expect(message!.parsed.subject).toBe('Second');

    // The run's chain proves it: requested by the author, decided by the reviewer, approved; and it verifies.
    const exported = (await h.api('GET', `/v1/processes/${processKey}/runs/${runId}/export?format=json`)).body;
    expect(exported.verification.ok).toBe(true);
    const actions = exported.audit.map((r: { action: string; actor: string }) => `${r.action}:${r.actor}`);
    expect(actions).toEqual(expect.arrayContaining([
      `template.review_requested:user:${author.id}`, `process.task_decided:user:${reviewer.id}`, 'template.review_approved:process',
    ]));
    expect(actions.filter((a: string) => a.startsWith(`process.task_decided:user:${author.id}`))).toEqual([]);

    // A policy is not swapped through the API; setting the same one again is fine.
    const other = await setUp(h);
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: other.processKey })).status).toBe(409);
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: processKey })).status).toBe(200);
    const set = await h.database.db.select().from(auditRecords).where(eq(auditRecords.action, 'template.review_policy_set'));
    expect(set.filter((r) => (r.details as { templateKey?: string }).templateKey === key)).toHaveLength(1);
  });

  it('a rejected version stays unusable; a template with no approved version is refused at publish, naming the step', async () => {
    const { processKey, author, reviewer } = await setUp(h);
    const key = uniqueKey('tpl');
    // The policy comes before the first version: that one is reviewed too.
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: processKey })).status).toBe(200);
    const started = await save(h, key, 'Only', author.auth);
    expect(started.status).toBe(202);
    const none = await pinned(h, key);
    expect(none.status).toBe(422);
    expect(none.error.details.problems[0]).toMatchObject({ path: 'definition.steps[0].template', stepId: 'hello' });
    expect(none.error.details.problems[0].message).toMatch(/^step "hello": template ".*" has no approved version/);

    const { runId } = started.body.review;
    await taskOpen(h, processKey, runId);
    expect((await decide(h, processKey, runId, 'reject', reviewer.auth)).status).toBe(200);
    expect(await versionOf(h, key, 1)).toMatchObject({ status: 'rejected' });
    expect((await pinned(h, key)).status).toBe(422);
    const chain = await h.database.db.select().from(auditRecords).where(eq(auditRecords.chain, `process:${runId}`));
    expect(chain.map((r) => r.action)).toContain('template.review_rejected');
  });

  it('refuses hostile input, and a review process with nothing published leaves no version behind', async () => {
    const key = uniqueKey('tpl');
    const badKey = await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: '../Review!' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.details.problems[0].path).toBe('body.process');
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: 'no-such-process' })).status).toBe(404);
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: ['x'] })).status).toBe(400);
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, '{"process":')).status).toBe(400);
    expect((await h.api('PUT', '/v1/templates/Bad Key!/review-policy', { process: 'x' })).status).toBe(400);

    const unpublished = uniqueKey('unpublished');
    await h.api('POST', '/v1/processes', { key: unpublished, name: 'Unpublished', definition: { sections: [] } });
    expect((await h.api('PUT', `/v1/templates/${key}/review-policy`, { process: unpublished })).status).toBe(200);
    const refused = await save(h, key, 'Nope');
    expect(refused.status).toBe(409);
    expect(refused.body.error.code).toBe('process_not_published');
    expect((await h.api('GET', `/v1/templates/${key}`)).status).toBe(404);
  });
});

describe('template review policy for every template (TEMPLATE_REVIEW_PROCESS)', () => {
  const processKey = uniqueKey('every-template');
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ templateReviewProcess: processKey }); });
  afterAll(async () => { await h?.stop(); });

  it('reviews a template with no policy of its own, whatever key saves it', async () => {
    const { author, reviewer } = await setUp(h, processKey);
    const key = uniqueKey('tpl');
    const byOperator = await save(h, key, 'Operator');
    expect(byOperator.status).toBe(202);
    expect(byOperator.body.savedBy).toMatch(/^api_key:/);
    const byAuthor = await save(h, key, 'Author', author.auth);
    expect(byAuthor.status).toBe(202);
    expect((await pinned(h, key)).status).toBe(422);

    const { runId } = byAuthor.body.review;
    await taskOpen(h, processKey, runId);
    expect((await decide(h, processKey, runId, 'approve', author.auth)).status).toBe(403);
    expect((await decide(h, processKey, runId, 'approve', reviewer.auth)).status).toBe(200);
    expect(await versionOf(h, key, 2)).toMatchObject({ status: 'approved' });
    expect(await versionOf(h, key, 1, false)).toMatchObject({ status: 'pending_review' });
    expect(await pinned(h, key)).toMatchObject({ status: 201, templateVersion: 2 });
    expect((await h.api('GET', `/v1/templates/${key}`)).body.reviewProcess).toBe(processKey);
  });
});

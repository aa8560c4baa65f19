import { eq } from 'drizzle-orm';
import { auditRecords } from '../../db/schema';
import { eventually, startHarness, uniqueKey, type Harness } from '../support/harness';
import { decide, setUp } from '../support/review-process';

const JOURNEY = { steps: [{ id: 'rest', type: 'wait', duration: '1h' }] };
type Review = { runId: string; outcome: string; reason: string | null; publishedVersion: number | null; editedBy: string };

async function reviewOf(h: Harness, journeyKey: string, runId: string, settled = true): Promise<Review> {
  return eventually(async () => {
    const reviews = (await h.api('GET', `/v1/journeys/${journeyKey}/reviews`)).body.reviews as Review[];
    const review = reviews.find((r) => r.runId === runId);
    return review && (!settled || review.outcome !== 'pending') && review;
  });
}

describe('journey publish policy (a journey with its own review process)', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => { await h?.stop(); });

  it('publishing starts the review (202); the last editor cannot approve, even with an admin key; a second person\'s approval publishes that version; all audited', async () => {
    const { processKey, author, reviewer } = await setUp(h);
    const key = uniqueKey('reviewed');
    expect((await h.api('POST', '/v1/journeys', { key, name: 'Reviewed', definition: JOURNEY }, author.auth)).status).toBe(201);
    const policy = await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: processKey });
    expect(policy.body).toEqual({ key, reviewProcess: processKey });

    // No key publishes directly: the author's admin key and the operator's both get the review.
    const started = await h.api('POST', `/v1/journeys/${key}/publish`, undefined, author.auth);
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({ journeyKey: key, processKey, version: 1, outcome: 'pending', editedBy: `user:${author.id}`, workflowId: `process:${processKey}:${started.body.runId}` });
    const again = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(again.status).toBe(202);
    expect(again.body.runId).toBe(started.body.runId);
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.latestVersion).toBeNull();
    const run = await h.api('GET', `/v1/processes/${processKey}/runs/${started.body.runId}`);
    expect(run.status).toBe(200);

    // Four eyes: the author, with an admin key bound to them, is refused and told the rule.
    await eventually(async () => (await h.api('GET', `/v1/processes/${processKey}/runs/${started.body.runId}`)).body.tasks[0].status === 'open');
    const own = await decide(h, processKey, started.body.runId, 'approve', author.auth);
    expect(own.status).toBe(403);
    expect(own.body.error).toMatchObject({ code: 'four_eyes' });
    expect(own.body.error.message).toMatch(/four eyes: whoever last edited the draft/);
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.latestVersion).toBeNull();

    expect((await decide(h, processKey, started.body.runId, 'approve', reviewer.auth)).status).toBe(200);
    const review = await reviewOf(h, key, started.body.runId);
    expect(review).toMatchObject({ outcome: 'published', publishedVersion: 1, reason: null });
    const journey = (await h.api('GET', `/v1/journeys/${key}`)).body;
    expect(journey.latestVersion).toBe(1);
    expect((await h.api('GET', `/v1/journeys/${key}/versions/1`)).body.definition.steps).toEqual(JOURNEY.steps);

    // The run's chain proves it: requested, decided by the reviewer, published; and it verifies.
    const exported = (await h.api('GET', `/v1/processes/${processKey}/runs/${started.body.runId}/export?format=json`)).body;
    expect(exported.verification.ok).toBe(true);
    const actions = exported.audit.map((r: { action: string; actor: string }) => `${r.action}:${r.actor}`);
    expect(actions).toEqual(expect.arrayContaining([
      expect.stringMatching(/^journey\.review_requested:user:/), `process.task_decided:user:${reviewer.id}`, 'journey.review_published:process',
    ]));
    expect(actions.filter((a: string) => a.startsWith(`process.task_decided:user:${author.id}`))).toEqual([]);

    // A policy is not swapped or lifted through the API.
    const other = await setUp(h);
    expect((await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: other.processKey })).status).toBe(409);

    // Pausing stays immediate under the policy, and is audited with who paused.
    const paused = await h.api('POST', `/v1/journeys/${key}/pause`, undefined, author.auth);
    expect(paused.body.status).toBe('paused');
    const records = await h.database.db.select().from(auditRecords).where(eq(auditRecords.journeyKey, key));
    expect(records.filter((r) => r.action === 'journey.paused').map((r) => r.actor)).toEqual([`user:${author.id}`]);
    expect(records.find((r) => r.action === 'journey.review_policy_set')).toBeDefined();
  });

  it('does not publish a draft changed during its review, and a rejected review leaves the journey unpublished, saying why', async () => {
    const { processKey, author, reviewer } = await setUp(h);
    const key = uniqueKey('reviewed');
    await h.api('POST', '/v1/journeys', { key, name: 'Reviewed', definition: JOURNEY }, author.auth);
    await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: processKey });
    // Publishing the same draft twice at once starts one review.
    const [first, twin] = (await Promise.all([h.api('POST', `/v1/journeys/${key}/publish`), h.api('POST', `/v1/journeys/${key}/publish`)])).map((r) => r.body);
    expect(twin.runId).toBe(first.runId);
    // The author edits the draft during the review: it is no longer the reviewed draft.
    const changed = { steps: [{ id: 'rest', type: 'wait', duration: '2h' }] };
    expect((await h.api('PUT', `/v1/journeys/${key}/draft`, { definition: changed }, author.auth)).status).toBe(200);
    await eventually(async () => (await h.api('GET', `/v1/processes/${processKey}/runs/${first.runId}`)).body.tasks[0].status === 'open');
    expect((await decide(h, processKey, first.runId, 'approve', reviewer.auth)).status).toBe(200);
    expect(await reviewOf(h, key, first.runId)).toMatchObject({ outcome: 'refused', reason: 'the draft changed since the review started', publishedVersion: null });
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.latestVersion).toBeNull();
    const refused = await h.database.db.select().from(auditRecords).where(eq(auditRecords.chain, `process:${first.runId}`));
    expect(refused.map((r) => r.action)).toContain('journey.review_refused');

    const second = (await h.api('POST', `/v1/journeys/${key}/publish`)).body;
    expect(second.runId).not.toBe(first.runId);
    await eventually(async () => (await h.api('GET', `/v1/processes/${processKey}/runs/${second.runId}`)).body.tasks[0].status === 'open');
    expect((await decide(h, processKey, second.runId, 'reject', reviewer.auth)).status).toBe(200);
    expect(await reviewOf(h, key, second.runId)).toMatchObject({ outcome: 'rejected', reason: 'the review process was rejected' });
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.latestVersion).toBeNull();
  });

  it('publishes a journey without a policy as before, and refuses hostile input', async () => {
    const key = await h.publish(JOURNEY);
    expect((await h.api('GET', `/v1/journeys/${key}`)).body.latestVersion).toBe(1);
    expect((await h.api('GET', `/v1/journeys/${key}/reviews`)).body).toEqual({ reviewProcess: null, reviews: [] });

    const badKey = await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: '../Review!' });
    expect(badKey.status).toBe(400);
    expect(badKey.body.error.details.problems[0].path).toBe('body.process');
    expect((await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: 'no-such-process' })).status).toBe(404);
    expect((await h.api('PUT', `/v1/journeys/${key}/review-policy`, { process: ['x'] })).status).toBe(400);
    expect((await h.api('PUT', `/v1/journeys/${key}/review-policy`, '{"process":')).status).toBe(400);
    expect((await h.api('GET', '/v1/journeys/no-such-journey/reviews')).status).toBe(404);

    // Under a policy, a draft that cannot be published starts no review (422 naming the field).
    const { processKey } = await setUp(h);
    const broken = uniqueKey('broken');
    await h.api('POST', '/v1/journeys', { key: broken, name: 'Broken', definition: { steps: [{ id: 'x', type: 'wait' }] } });
    await h.api('PUT', `/v1/journeys/${broken}/review-policy`, { process: processKey });
    const refused = await h.api('POST', `/v1/journeys/${broken}/publish`);
    expect(refused.status).toBe(422);
    expect((await h.api('GET', `/v1/journeys/${broken}/reviews`)).body.reviews).toEqual([]);

    // A review process with nothing published: 409, and no review is left behind.
    const unpublished = uniqueKey('unpublished');
    await h.api('POST', '/v1/processes', { key: unpublished, name: 'Unpublished', definition: { sections: [] } });
    const waiting = await h.publish(JOURNEY);
    expect((await h.api('PUT', `/v1/journeys/${waiting}/review-policy`, { process: unpublished })).status).toBe(200);
    const notPublished = await h.api('POST', `/v1/journeys/${waiting}/publish`);
    expect(notPublished.status).toBe(409);
    expect(notPublished.body.error.code).toBe('process_not_published');
    expect((await h.api('GET', `/v1/journeys/${waiting}/reviews`)).body.reviews).toEqual([]);
  });
});

describe('journey publish policy for every journey (JOURNEY_REVIEW_PROCESS)', () => {
  const processKey = uniqueKey('every-review');
  let h: Harness;
  beforeAll(async () => { h = await startHarness({ journeyReviewProcess: processKey }); });
  afterAll(async () => { await h?.stop(); });

  it('reviews a journey with no policy of its own', async () => {
    const { author, reviewer } = await setUp(h, processKey);
    const key = uniqueKey('everyone');
    await h.api('POST', '/v1/journeys', { key, name: 'Everyone', definition: JOURNEY }, author.auth);
    const started = await h.api('POST', `/v1/journeys/${key}/publish`);
    expect(started.status).toBe(202);
    expect(started.body.processKey).toBe(processKey);
    await eventually(async () => (await h.api('GET', `/v1/processes/${processKey}/runs/${started.body.runId}`)).body.tasks[0].status === 'open');
    expect((await decide(h, processKey, started.body.runId, 'approve', author.auth)).status).toBe(403);
    expect((await decide(h, processKey, started.body.runId, 'approve', reviewer.auth)).status).toBe(200);
    expect(await reviewOf(h, key, started.body.runId)).toMatchObject({ outcome: 'published', publishedVersion: 1 });
    expect((await h.api('GET', `/v1/journeys/${key}/reviews`)).body.reviewProcess).toBe(processKey);
  });
});

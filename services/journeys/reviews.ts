import { randomUUID } from 'node:crypto';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { journeyReviews, journeys, type JourneyReviewRow, type JourneyRow } from '../../db/schema';
import type { JourneyReviewSubject } from '../../workflows/contract';
import type { Caller } from '../people/api-keys';
import { appendAudit, digestOf } from '../audit/records';
import { conflict, DomainError, invalid } from '../lib/errors';
import { getProcess } from '../processes/definitions';
import { excludedApproversOf, type ReviewEnd } from '../processes/review-subjects';
import { startRun } from '../processes/runs';
import { draftProblems, getJourney, getVersion, publishJourney } from './journeys';
import { syncJourneySchedule } from './schedules';

/**
 * Publish policy: a journey under review (its own `reviewProcess`, or JOURNEY_REVIEW_PROCESS for
 * every journey) goes live only through a run of the review process. Publishing starts the run;
 * its end publishes exactly the reviewed draft (by digest), or records why not. Whoever last
 * edited the draft may not approve it (four eyes, checked by the run's workflow). Every step is
 * in the run's audit chain: `journey.review_requested`, the process's decisions, then
 * `journey.review_published`, `journey.review_refused` or `journey.review_rejected`.
 */
export interface ReviewDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
  webhookAllowedHosts: readonly string[];
}

/** Who a request acts as: the user behind the key, else the key. */
export const actorOf = (caller: Caller) => (caller.user ? `user:${caller.user.id}` : `api_key:${caller.keyId}`);

/** The process that must approve this journey's versions, if any. */
export const reviewProcessOf = (journey: JourneyRow, configured: string | undefined) => journey.reviewProcess ?? configured;

/**
 * Starts the review of the journey's draft, or returns the pending one of the same draft. 422
 * when the draft cannot be published (nothing to review), 409 when the process is not published.
 */
export async function requestReview(deps: ReviewDeps, journey: JourneyRow, processKey: string, requestedBy: string): Promise<JourneyReviewRow> {
  const problems = draftProblems(journey.draft, deps.webhookAllowedHosts);
  if (problems.length) throw invalid('invalid_definition', `The draft of "${journey.key}" cannot be published`, problems);
  const digest = digestOf(journey.draft);
  const editedBy = journey.draftEditedBy ?? 'unknown';
  const subject: JourneyReviewSubject = {
    kind: 'journey', journeyKey: journey.key, version: (journey.latestVersion ?? 0) + 1, digest, editedBy, excludedApprovers: excludedApproversOf(editedBy),
  };
  // The review is written first: its unique pending key makes a second publish of the same draft find it.
  const runId = randomUUID();
  const [review] = await deps.db.insert(journeyReviews).values({
    runId, journeyId: journey.id, journeyKey: journey.key, processKey, version: subject.version, digest, editedBy, requestedBy,
  }).onConflictDoNothing().returning();
  if (!review) {
    const [pending] = await deps.db.select().from(journeyReviews)
      .where(and(eq(journeyReviews.journeyId, journey.id), eq(journeyReviews.digest, digest), eq(journeyReviews.outcome, 'pending')));
    if (pending) return pending;
    throw conflict('review_pending', `A review of this draft of "${journey.key}" was just decided; publish again`);
  }
  let run;
  try {
    run = await startRun(deps, processKey, { journey: journey.key, version: subject.version, digest, editor: editedBy }, requestedBy, { runId, subject });
  } catch (err) {
    await deps.db.delete(journeyReviews).where(eq(journeyReviews.runId, runId));
    throw err;
  }
  await appendAudit(deps.db, {
    actor: requestedBy, action: 'journey.review_requested', outcome: 'pending', journeyKey: journey.key, processRunId: run.id,
    workflowId: run.workflowId, idempotencyKey: `${run.workflowId}:review-requested`,
    details: { processKey, runId: run.id, version: subject.version, digest, editedBy },
  });
  return review;
}

/** The journey's reviews, newest first. */
export async function listReviews(db: Database, journeyId: string, limit = 20): Promise<JourneyReviewRow[]> {
  return db.select().from(journeyReviews).where(eq(journeyReviews.journeyId, journeyId)).orderBy(desc(journeyReviews.createdAt)).limit(limit);
}

/**
 * Sets the journey's review process. A policy is never lifted or swapped through the API (that
 * would be the bypass it exists to stop): setting another one than the current is a 409.
 */
export async function setReviewProcess(db: Database, key: string, processKey: string, actor: string): Promise<JourneyRow> {
  await getProcess(db, processKey);
  const journey = await getJourney(db, key);
  if (journey.reviewProcess === processKey) return journey;
  if (journey.reviewProcess !== null) {
    throw conflict('review_policy_set', `The journey "${key}" is reviewed by "${journey.reviewProcess}" already; an operator changes a policy`);
  }
  const [row] = await db.update(journeys).set({ reviewProcess: processKey, updatedAt: sql`now()` })
    .where(and(eq(journeys.id, journey.id), sql`${journeys.reviewProcess} is null`)).returning();
  if (!row) throw conflict('review_policy_set', `The journey "${key}" has a review policy already`);
  await appendAudit(db, { actor, action: 'journey.review_policy_set', outcome: 'set', journeyKey: key, details: { processKey } });
  return row;
}

/**
 * A review run's end: an approved (completed) run publishes exactly the reviewed draft; a draft
 * changed since, or one that no longer publishes, is refused with the reason; a rejected run
 * leaves the journey as it was. Once per run: a retry returns the recorded outcome.
 */
export async function concludeJourneyReview(deps: ReviewDeps, end: ReviewEnd<JourneyReviewSubject>): Promise<JourneyReviewRow> {
  const [review] = await deps.db.select().from(journeyReviews).where(eq(journeyReviews.runId, end.runId));
  if (!review) throw new Error(`No journey review for run ${end.runId}`);
  if (review.outcome !== 'pending') return review;
  let outcome: Exclude<JourneyReviewRow['outcome'], 'pending'> = 'rejected';
  let reason: string | null = 'the review process was rejected';
  let publishedVersion: number | null = null;
  if (end.status === 'completed') {
    try {
      const published = await publishJourney(deps.db, end.review.journeyKey, deps.webhookAllowedHosts, `process:${end.runId}`, end.review.digest);
      await syncJourneySchedule(deps, published.journey, (await getVersion(deps.db, published.journey.id, published.version)).definition);
      outcome = 'published';
      reason = null;
      publishedVersion = published.version;
    } catch (err) {
      if (!(err instanceof DomainError)) throw err;
      outcome = 'refused';
      reason = err.code === 'draft_changed' ? 'the draft changed since the review started' : err.message;
    }
  }
  const [row] = await deps.db.update(journeyReviews).set({ outcome, reason, publishedVersion, decidedAt: sql`now()` })
    .where(and(eq(journeyReviews.runId, end.runId), eq(journeyReviews.outcome, 'pending'))).returning();
  await appendAudit(deps.db, {
    actor: 'process', action: `journey.review_${outcome}`, outcome, journeyKey: end.review.journeyKey, journeyVersion: publishedVersion ?? undefined,
    processRunId: end.runId, workflowId: end.workflowId, idempotencyKey: `${end.workflowId}:review-concluded`,
    details: { processKey: end.processKey, runId: end.runId, runStatus: end.byTask ? 'running' : end.status, ...(end.byTask ? { byTask: end.byTask } : {}), digest: end.review.digest, reviewedVersion: end.review.version, reason },
  });
  return row ?? (await deps.db.select().from(journeyReviews).where(eq(journeyReviews.runId, end.runId)))[0]!;
}

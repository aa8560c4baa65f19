import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JourneyReviewRow } from '../../db/schema';
import { JourneyKeySchema, ProcessKeySchema } from '../../journey-language';
import { getJourney } from '../../services/journeys/journeys';
import { actorOf, listReviews, setReviewProcess } from '../../services/journeys/reviews';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const KeyParams = z.object({ key: JourneyKeySchema });

export const JourneyReviewView = z.object({
  journeyKey: z.string(),
  processKey: z.string().describe('the review process'),
  runId: z.uuid().describe('the review run: GET /v1/processes/:processKey/runs/:runId'),
  workflowId: z.string(),
  version: z.number().int().describe('the version the draft becomes once approved'),
  digest: z.string().describe('SHA-256 of the reviewed draft: a draft changed since is not published'),
  editedBy: z.string().describe('who last edited the draft (`user:<id>` or `api_key:<id>`): they cannot approve it'),
  requestedBy: z.string(),
  outcome: z.enum(['pending', 'published', 'rejected', 'refused']),
  reason: z.string().nullable().describe('why a review did not publish'),
  publishedVersion: z.number().int().nullable(),
  createdAt: z.string(),
  decidedAt: z.string().nullable(),
}).meta({ id: 'JourneyReview' });

export function reviewView(row: JourneyReviewRow): z.infer<typeof JourneyReviewView> {
  return {
    journeyKey: row.journeyKey, processKey: row.processKey, runId: row.runId, workflowId: `process:${row.processKey}:${row.runId}`,
    version: row.version, digest: row.digest, editedBy: row.editedBy, requestedBy: row.requestedBy, outcome: row.outcome, reason: row.reason,
    publishedVersion: row.publishedVersion, createdAt: row.createdAt.toISOString(), decidedAt: row.decidedAt?.toISOString() ?? null,
  };
}

/** A journey's publish policy and its reviews (publishing under a policy is in journeys.ts). */
export const journeyReviewRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const tags = ['journeys'];

  app.put('/journeys/:key/review-policy', {
    config: scopes.admin,
    schema: {
      tags, summary: 'Require a review process before any version of this journey goes live',
      description: 'Audited (`journey.review_policy_set`). A policy is not lifted or swapped through the API: another process than the current one is a 409.',
      params: KeyParams, body: z.object({ process: ProcessKeySchema }),
      response: { 200: z.object({ key: z.string(), reviewProcess: z.string() }), ...errorResponses },
    },
  }, async (request) => {
    const journey = await setReviewProcess(db, request.params.key, request.body.process, actorOf(callerOf(request)));
    return { key: journey.key, reviewProcess: journey.reviewProcess! };
  });

  app.get('/journeys/:key/reviews', {
    config: scopes.service,
    schema: {
      tags, summary: "The journey's reviews, newest first (the latest 20), with each outcome and why",
      params: KeyParams, response: { 200: z.object({ reviewProcess: z.string().nullable(), reviews: z.array(JourneyReviewView) }), ...errorResponses },
    },
  }, async (request) => {
    const journey = await getJourney(db, request.params.key);
    return { reviewProcess: journey.reviewProcess ?? deps.journeyReviewProcess ?? null, reviews: (await listReviews(db, journey.id)).map(reviewView) };
  });
};

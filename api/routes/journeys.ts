import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { JourneyRow } from '../../db/schema';
import {
  createJourney, draftProblems, getJourney, getVersion, listJourneys, listVersions, publishJourney,
  setJourneyStatus, updateDraft,
} from '../../services/journeys/journeys';
import { definitionSizeProblem, JourneyDefinitionSchema, JourneyKeySchema } from '../../journey-language';
import { invalid } from '../../services/lib/errors';
import type { Database } from '../../db/client';
import { syncJourneySchedule } from '../../services/journeys/schedules';
import { actorOf, requestReview, reviewProcessOf } from '../../services/journeys/reviews';
import { JourneyReviewView, reviewView } from './journey-reviews';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const KeyParams = z.object({ key: JourneyKeySchema });
const Definition = z.record(z.string(), z.unknown())
  .describe('a journey definition (see JourneyDefinition); drafts may be incomplete, publishing validates');

const Problem = z.object({ path: z.string(), message: z.string(), stepId: z.string().optional() });
const JourneyView = z.object({
  key: z.string(),
  name: z.string(),
  description: z.string().nullable(),
  status: z.enum(['active', 'paused']),
  latestVersion: z.number().int().nullable(),
  draft: z.unknown(),
  draftProblems: z.array(Problem).describe('why the draft cannot be published yet; empty when it can'),
  versions: z.array(z.object({ version: z.number().int(), publishedAt: z.string() })).describe('the latest 100 published versions, oldest first (each one: GET /v1/journeys/:key/versions/:version)'),
  createdAt: z.string(),
  updatedAt: z.string(),
}).meta({ id: 'Journey' });
type JourneyView = z.infer<typeof JourneyView>;

const JourneyCreate = z.object({
  key: KeyParams.shape.key,
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  definition: Definition,
});
const DraftUpdate = JourneyCreate.omit({ key: true }).partial({ name: true });
const Published = z.object({ key: z.string(), version: z.number().int(), created: z.boolean(), publishedAt: z.string() });
const VersionParams = KeyParams.extend({ version: z.coerce.number().int().min(1) });

/** Drafts may be incomplete, not unbounded: one over the size cap is refused before it is stored. */
function refuseOversized(definition: unknown): void {
  const problem = definitionSizeProblem(definition);
  if (problem) throw invalid('definition_too_large', problem, [{ path: 'definition', message: problem }]);
}

async function view(db: Database, row: JourneyRow, webhookAllowedHosts: readonly string[]): Promise<JourneyView> {
  const versions = await listVersions(db, row.id);
  return {
    key: row.key, name: row.name, description: row.description, status: row.status,
    latestVersion: row.latestVersion, draft: row.draft, draftProblems: draftProblems(row.draft, webhookAllowedHosts),
    versions: versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt.toISOString() })),
    createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
  };
}

export const journeyRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const tags = ['journeys'];
  const webhookAllowedHosts = deps.webhookAllowedHosts ?? [];
  const reviewDeps = { db, temporal: deps.temporal, taskQueue: deps.taskQueue, webhookAllowedHosts };

  app.post('/journeys', {
    config: scopes.admin,
    schema: { tags, summary: 'Create a journey with a draft definition', body: JourneyCreate, response: { 201: JourneyView, ...errorResponses } },
  }, async (request, reply) => {
    refuseOversized(request.body.definition);
    return reply.code(201).send(await view(db, await createJourney(db, request.body, actorOf(callerOf(request))), webhookAllowedHosts));
  });

  app.get('/journeys', {
    config: scopes.service,
    schema: {
      tags, summary: 'List journeys by key, a page at a time',
      querystring: z.object({ limit: pageLimit(), after: JourneyKeySchema.optional().describe('nextCursor of the previous page') }),
      response: { 200: z.object({ journeys: z.array(JourneyView), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listJourneys(db, request.query), request.query.limit, (row) => row.key);
    return { journeys: await Promise.all(page.items.map((row) => view(db, row, webhookAllowedHosts))), nextCursor: page.nextCursor };
  });

  app.get('/journeys/:key', {
    config: scopes.service,
    schema: { tags, summary: 'Read a journey, its draft and its versions', params: KeyParams, response: { 200: JourneyView, ...errorResponses } },
  }, async (request) => view(db, await getJourney(db, request.params.key), webhookAllowedHosts));

  app.put('/journeys/:key/draft', {
    config: scopes.admin,
    schema: { tags, summary: 'Replace the draft', params: KeyParams, body: DraftUpdate, response: { 200: JourneyView, ...errorResponses } },
  }, async (request) => {
    refuseOversized(request.body.definition);
    return view(db, await updateDraft(db, request.params.key, request.body, actorOf(callerOf(request))), webhookAllowedHosts);
  });

  app.post('/journeys/:key/publish', {
    config: scopes.admin,
    schema: {
      tags, summary: 'Publish the draft as the next immutable version (or start its review)',
      description: 'Under a review policy (the journey\'s review process or JOURNEY_REVIEW_PROCESS) nothing is published here: the answer is 202 with the review, whose process run publishes exactly this draft once it completes approved. 422 names each bad step and field. An unchanged draft returns the latest version (200). A transactional `send_email` step needs its `transactionalReason`; the admin key that publishes it is recorded in the audit with the reason (`journey.transactional_marked`).',
      params: KeyParams, response: { 200: Published, 201: Published, 202: JourneyReviewView, ...errorResponses },
    },
  }, async (request, reply) => {
    const caller = callerOf(request);
    const reviewedBy = reviewProcessOf(await getJourney(db, request.params.key), deps.journeyReviewProcess);
    if (reviewedBy) {
      // Under a review policy no key publishes directly: the review's run does, once approved.
      const review = await requestReview(reviewDeps, await getJourney(db, request.params.key), reviewedBy, actorOf(caller));
      return reply.code(202).send(reviewView(review));
    }
    const { journey, version, created } = await publishJourney(db, request.params.key, webhookAllowedHosts, `api_key:${caller.keyId}`);
    const published = await getVersion(db, journey.id, version);
    await syncJourneySchedule(deps, journey, published.definition);
    return reply.code(created ? 201 : 200)
      .send({ key: journey.key, version, created, publishedAt: published.publishedAt.toISOString() });
  });

  app.get('/journeys/:key/versions/:version', {
    config: scopes.service,
    schema: {
      tags, summary: 'Read a published version', params: VersionParams,
      response: { 200: z.object({ key: z.string(), version: z.number().int(), publishedAt: z.string(), definition: JourneyDefinitionSchema }), ...errorResponses },
    },
  }, async (request) => {
    const journey = await getJourney(db, request.params.key);
    const v = await getVersion(db, journey.id, request.params.version);
    return { key: journey.key, version: v.version, publishedAt: v.publishedAt.toISOString(), definition: v.definition };
  });

  for (const [action, status] of [['pause', 'paused'], ['resume', 'active']] as const) {
    app.post(`/journeys/:key/${action}`, {
    config: scopes.admin,
      schema: {
        tags, summary: action === 'pause' ? 'Stop new enrolments (running ones go on)' : 'Take new enrolments again',
        params: KeyParams, response: { 200: JourneyView, ...errorResponses },
      },
    }, async (request) => {
      const journey = await setJourneyStatus(db, request.params.key, status, actorOf(callerOf(request)));
      if (journey.latestVersion !== null) await syncJourneySchedule(deps, journey, (await getVersion(db, journey.id, journey.latestVersion)).definition);
      return view(db, journey, webhookAllowedHosts);
    });
  }
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JourneyKeySchema } from '../../journey-language';
import { getJourney, getVersion } from '../../services/journeys/journeys';
import { journeyStats } from '../../services/journeys/results';
import { resultsCsv } from '../../services/journeys/results-csv';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { journeyPage } from '../pages/journey-page';
import { messagePage } from '../pages/task-form';

const Key = z.object({ key: JourneyKeySchema });
const ByReasonSchema = z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) });
const Interval = z.tuple([z.number(), z.number()]);
const StepStatsSchema = z.object({
  stepId: z.string(), stepType: z.string(),
  entered: z.number().describe('enrolments that entered the step, once each'),
  waitingNow: z.number().describe('enrolments at the step now'),
  completed: z.number().describe('enrolments that went on from the step (to a next step, or to the end of the journey after it)'),
  dropOff: z.object({ count: z.number(), rate: z.number() }).describe('entered but did not go on, and its share of entered'),
  exited: ByReasonSchema.describe('enrolments that exited while at the step'),
  convertedAfter: z.number().describe('enrolments that passed the step and converted'),
  emailsSent: z.number(), skipped: ByReasonSchema.describe('sends refused at send time, by reason'),
  opened: z.number().describe('enrolments whose email of this step was opened'), clicked: z.number(),
});
const VariantStatsSchema = z.object({
  stepId: z.string(), variant: z.string(), holdout: z.boolean(), enrolments: z.number(), converted: z.number(), conversionRate: z.number(),
  confidenceInterval: Interval.describe('95% Wilson score interval of the conversion rate'),
  lift: z.object({
    versus: z.string().describe("the split's control: its holdout, else its first variant"),
    difference: z.number().describe('conversion rate minus the control\'s'),
    confidenceInterval: Interval.describe("95% Newcombe hybrid score interval of the difference"),
    relative: z.number().nullable().describe("the difference over the control's rate"),
  }).nullable(),
});
const VersionStatsSchema = z.object({
  version: z.number(), entered: z.number(), running: z.number(), completed: z.number(), converted: z.number(),
  cancelled: z.number(), failed: z.number(), exited: ByReasonSchema,
  steps: z.array(StepStatsSchema), variants: z.array(VariantStatsSchema),
}).meta({ id: 'JourneyVersionStats' });

/** Journey results: JSON for services, a page with the graph and a funnel for marketers. */
export const resultRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.get('/v1/journeys/:key/stats', {
    config: scopes.service,
    schema: {
      tags: ['journeys'], summary: 'Results per version and step (entered, went on, drop-off, exits, conversions, emails), variants with lift, from counters kept with the audit',
      params: Key, response: { 200: z.object({ key: z.string(), versions: z.array(VersionStatsSchema) }), ...errorResponses },
    },
  }, async (request) => journeyStats(db, request.params.key));

  app.get('/journeys/:key', {
    config: scopes.service,
    schema: { tags: ['pages'], summary: 'Results page (HTML; HTTP Basic auth with an API key as the password)', params: Key, querystring: z.object({ version: z.coerce.number().int().min(1).optional() }) },
  }, async (request, reply) => {
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store');
    const journey = await getJourney(db, request.params.key);
    const stats = await journeyStats(db, journey.key);
    const version = request.query.version ?? journey.latestVersion;
    const chosen = stats.versions.find((v) => v.version === version);
    if (!version || !chosen) return reply.code(404).send(messagePage('No published version', `Journey ${journey.key} has no version ${version ?? ''} yet.`));
    return journeyPage(journey.name, journey.key, (await getVersion(db, journey.id, version)).definition, chosen);
  });

  app.get('/journeys/:key/results.csv', {
    config: scopes.service,
    schema: { tags: ['pages'], summary: 'Results as CSV, one figure per line (HTTP Basic or a bearer key)', params: Key },
  }, async (request, reply) => {
    const stats = await journeyStats(db, request.params.key);
    return reply.type('text/csv; charset=utf-8').header('cache-control', 'no-store')
      .header('content-disposition', `attachment; filename="${stats.key}-results.csv"`).send(resultsCsv(stats.versions));
  });
};

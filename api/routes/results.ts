import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { JourneyKeySchema } from '../../journey-language';
import { getJourney, getVersion } from '../../services/journeys/journeys';
import { journeyStats } from '../../services/journeys/stats';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { journeyPage } from '../pages/journey-page';
import { messagePage } from '../pages/task-form';

const Key = z.object({ key: JourneyKeySchema });
const VersionStatsSchema = z.object({
  version: z.number(), entered: z.number(), running: z.number(), completed: z.number(), converted: z.number(),
  cancelled: z.number(), failed: z.number(), exited: z.object({ total: z.number(), byReason: z.record(z.string(), z.number()) }),
  steps: z.array(z.object({ stepId: z.string(), entered: z.number(), waitingNow: z.number(), medianSecondsInStep: z.number().nullable() })),
  variants: z.array(z.object({ variant: z.string(), enrolments: z.number(), converted: z.number(), conversionRate: z.number(), confidenceInterval: z.tuple([z.number(), z.number()]) })),
}).meta({ id: 'JourneyVersionStats' });

/** Journey results: JSON for services, a page with the graph and a funnel for marketers. */
export const resultRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.get('/v1/journeys/:key/stats', {
    config: scopes.service,
    schema: {
      tags: ['journeys'], summary: 'Results per version and step: entered, waiting now, completed, exited by reason, converted, variants, median time in step',
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
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ContactUpsertSchema } from '../../services/contacts/schemas';
import { ingestEvent } from '../../services/contacts/events';
import { EventNameSchema } from '../../journey-language';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const EventBody = z.object({
  id: z.string().min(1).max(200).optional().describe('your id for de-duplication: the same id is processed once'),
  contactId: z.uuid().optional(),
  contact: ContactUpsertSchema.optional().describe('or the contact by email / externalId (upserted)'),
  name: EventNameSchema,
  properties: z.record(z.string(), z.unknown()).default({}),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
}).refine((b) => (b.contactId === undefined) !== (b.contact === undefined), {
  message: 'give exactly one of contactId or contact', path: ['contactId'],
});

const EventAccepted = z.object({
  id: z.uuid(),
  duplicate: z.boolean().describe('this id was received before; nothing was done again'),
  contactId: z.uuid(),
  enrolled: z.array(z.uuid()).describe('enrolments this event started (event triggers)'),
  delivered: z.number().int().describe('running enrolments it was delivered to (goals, exits, waits)'),
  processRuns: z.array(z.object({
    processKey: z.string(),
    outcome: z.enum(['started', 'refused']).describe('started: a run started (or, for a retried event, was found); refused: its inputs did not validate'),
    runId: z.uuid().nullable(),
    reason: z.string().optional(),
    problems: z.array(z.object({ path: z.string(), message: z.string() })).optional().describe('each input the event\'s mapping got wrong (`inputs.<name>`)'),
  })).describe('runs of processes that start on this event (startOn); a refused one leaves the event accepted'),
});

export const eventRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  app.post('/events', {
    config: scopes.service,
    schema: {
      tags: ['events'],
      summary: 'Record an event for a contact',
      description: 'Starts journeys whose event trigger matches (entry rules apply) and runs of processes that start on it (startOn), and wakes enrolments that wait for it; a goal event converts, an exit event ends them.',
      body: EventBody,
      response: { 202: EventAccepted, 200: EventAccepted, ...errorResponses },
    },
  }, async (request, reply) => {
    const outcome = await ingestEvent({ db: deps.database.db, temporal: deps.temporal, taskQueue: deps.taskQueue }, request.body);
    return reply.code(outcome.duplicate ? 200 : 202).send({
      id: outcome.event.id, duplicate: outcome.duplicate, contactId: outcome.event.contactId,
      enrolled: outcome.enrolled, delivered: outcome.delivered, processRuns: outcome.processRuns,
    });
  });
};

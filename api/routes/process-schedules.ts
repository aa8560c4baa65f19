import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { CronSchema, DurationSchema, durationToMs, ProcessKeySchema, TimeZoneSchema } from '../../journey-language';
import { deleteProcessSchedule, describeProcessSchedule, setProcessSchedule } from '../../services/processes/schedules';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const tags = ['processes'];
const KeyParams = z.object({ key: ProcessKeySchema });

const ScheduleBody = z.object({
  cron: CronSchema.optional().describe('a five-field cron expression, e.g. "0 9 * * 1" (Mondays at 9:00 in the time zone)'),
  every: DurationSchema.refine((d) => (durationToMs(d) ?? 0) >= 1_000, 'an interval is at least 1s').optional()
    .describe('or an interval, e.g. "1d", "2h"'),
  timezone: TimeZoneSchema.default('UTC').describe("the cron expression's time zone"),
  inputs: z.record(z.string(), z.unknown()).default({}).describe("each run's inputs, checked against the latest published version's inputs"),
  paused: z.boolean().default(false).describe('a paused Schedule starts nothing until set again unpaused'),
  note: z.string().max(500).optional(),
}).refine((b) => (b.cron === undefined) !== (b.every === undefined), { message: 'give exactly one of cron or every', path: ['cron'] });

const ScheduleView = z.object({
  processKey: z.string(), scheduleId: z.string(), cron: z.string().nullable(), every: z.string().nullable(), timezone: z.string(),
  inputs: z.record(z.string(), z.unknown()), paused: z.boolean(), note: z.string().nullable(),
  overlap: z.literal('buffer_one').describe('while a start still runs, one more time waits and later ones are skipped'),
  catchupWindow: z.string().describe('how late a time missed while Temporal was down is still started'),
  nextRunTimes: z.array(z.string()).describe('the next scheduled times (up to 5)'),
  recentStarts: z.array(z.object({
    scheduledAt: z.string(), takenAt: z.string(), workflowId: z.string(), runId: z.uuid().describe('the run this time starts (derived from workflowId)'),
  })),
}).meta({ id: 'ProcessSchedule' });

/** A process's Temporal Schedule: runs started at cron times or intervals (docs/processes.md). */
export const processScheduleRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const processDeps = { db: deps.database.db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.put('/processes/:key/schedule', {
    config: scopes.admin,
    schema: {
      tags, summary: "Set the process's Schedule: a run starts at each cron time or interval",
      description: "Creates or replaces it. Each run's startedBy is schedule:<scheduleId>. 422 names each bad field or input; 409 when nothing is published.",
      params: KeyParams, body: ScheduleBody, response: { 200: ScheduleView, ...errorResponses },
    },
  }, async (request) => setProcessSchedule(processDeps, request.params.key, request.body, `api_key:${callerOf(request).keyId}`));

  app.get('/processes/:key/schedule', {
    config: scopes.service,
    schema: {
      tags, summary: "The process's Schedule, its next run times and its recent starts", params: KeyParams,
      response: { 200: ScheduleView, ...errorResponses },
    },
  }, async (request) => describeProcessSchedule(processDeps, request.params.key));

  app.delete('/processes/:key/schedule', {
    config: scopes.admin,
    schema: {
      tags, summary: "Delete the process's Schedule: no further runs start (runs it started go on)", params: KeyParams,
      response: { 200: z.object({ processKey: z.string(), scheduleId: z.string(), deleted: z.literal(true) }), ...errorResponses },
    },
  }, async (request) => {
    const scheduleId = await deleteProcessSchedule(processDeps, request.params.key, `api_key:${callerOf(request).keyId}`);
    return { processKey: request.params.key, scheduleId, deleted: true as const };
  });
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ContactFieldsSchema, TagSchema } from '../../services/contacts/schemas';
import { DurationSchema, durationToMs, EventNameSchema, JourneyKeySchema } from '../../journey-language';
import { runningInTestRun, startTestRun, testRunView } from '../../services/journeys/test-runs';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const Ref = z.string().regex(/^[a-z0-9_-]{1,40}$/, 'a ref is 1-40 lowercase letters, digits, "_" or "-"');
const TestRunBody = z.object({
  version: z.union([z.number().int().min(1), z.literal('draft')]).optional().describe('a published version, or "draft"; default the latest (or the draft if none)'),
  contacts: z.array(ContactFieldsSchema.extend({ ref: Ref, tags: z.array(TagSchema).max(200).optional(), score: z.number().int().optional() })).min(1).max(100)
    .describe('sandbox contacts (fields, tags, score, attributes); they get sandbox addresses'),
  events: z.array(z.object({ ref: Ref, name: EventNameSchema, properties: z.record(z.string(), z.unknown()).default({}), after: DurationSchema.describe('journey time after the start') })).max(500).default([]),
  decisions: z.array(z.object({
    ref: Ref.describe('the contact whose approval task is decided'),
    step: z.string().min(1).max(100).optional().describe('the approval step; may be left out when the version has only one'),
    decide: z.enum(['approve', 'reject']),
    values: z.record(z.string(), z.unknown()).default({}).describe("the form's values, checked against the step's fields"),
    after: DurationSchema.describe('journey time after the start, like an event\'s; a task that opens later is decided as soon as it opens'),
  })).max(500).default([]).describe(
    'approval decisions made as the run\'s sandbox approver (test-run:<run id>), through the same path as an approver\'s; '
    + 'the n-th decision for a contact and step decides its n-th task. Test tasks email nobody and are in nobody\'s inbox',
  ),
  timeScale: z.number().int().min(1).max(604_800).default(86_400).describe('journey seconds per real second (86400: a day in a second)'),
  waitSeconds: z.number().int().min(0).max(60).default(15).describe('answer once every contact finished, or after this long'),
});

const Run = z.object({
  id: z.uuid(), journeyKey: z.string(), version: z.number().nullable(), timeScale: z.number(), createdAt: z.string(), status: z.enum(['running', 'finished']),
  contacts: z.array(z.object({
    ref: z.string(), contactId: z.string(), enrolmentId: z.string(), workflowId: z.string(), status: z.string(), currentStep: z.string().nullable(),
    path: z.array(z.object({ stepId: z.string(), action: z.string(), outcome: z.string(), at: z.string() })),
    emails: z.array(z.object({ stepId: z.string().nullable(), status: z.string(), subject: z.string(), text: z.string(), skipReason: z.string().nullable() })),
  })),
}).meta({ id: 'TestRun' });

export const testRunRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.post('/journeys/:key/test-runs', {
    config: scopes.admin,
    schema: {
      tags: ['journeys'], summary: 'Test a journey in a sandbox, in compressed time',
      description: 'No real email (captured), no webhook calls, no email to approvers (test tasks, in nobody\'s inbox), no turn of owner rotation, '
        + 'audit records marked test, left out of the stats. Scripted events and approval decisions arrive at their journey times. '
        + 'Answers with each contact\'s path and what each step would have sent.',
      params: z.object({ key: JourneyKeySchema }), body: TestRunBody, response: { 201: Run, ...errorResponses },
    },
  }, async (request, reply) => {
    const { waitSeconds, events, decisions, ...rest } = request.body;
    const runId = await startTestRun({ db, temporal: deps.temporal, taskQueue: deps.taskQueue }, request.params.key, {
      ...rest, events: events.map((e) => ({ ...e, after: durationToMs(e.after)! })), decisions: decisions.map((d) => ({ ...d, after: durationToMs(d.after)! })),
    });
    const deadline = Date.now() + waitSeconds * 1000;
    while (Date.now() < deadline && (await runningInTestRun(db, runId)) > 0) await new Promise((r) => setTimeout(r, 100));
    return reply.code(201).send(await testRunView(db, runId));
  });

  app.get('/journeys/:key/test-runs/:id', {
    config: scopes.admin,
    schema: { tags: ['journeys'], summary: 'A test run and the path each test contact took', params: z.object({ key: z.string(), id: z.uuid() }), response: { 200: Run, ...errorResponses } },
  }, async (request) => testRunView(db, request.params.id));
};

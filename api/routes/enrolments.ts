import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { EnrolmentRow } from '../../db/schema';
import { auditForEnrolment } from '../../services/audit/records';
import { ContactUpsertSchema } from '../../services/contacts/schemas';
import { enrol, enrolMany } from '../../services/enrolment/enrol';
import { enrolmentTarget, getEnrolment } from '../../services/enrolment/rows';
import { cancelEnrolment } from '../../services/enrolment/workflow-runs';
import { scopes } from '../auth';
import type { ApiDeps, RouteOptions } from '../deps';
import { errorResponses } from '../errors';

/** An enrolment's view shows its latest audit records; the export pages through all of them. */
const PATH_SHOWN = 200;

const PathEntry = z.object({
  at: z.string(),
  action: z.string(),
  outcome: z.string(),
  stepId: z.string().nullable(),
  stepType: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
});
const EnrolmentView = z.object({
  id: z.uuid(),
  journeyKey: z.string(),
  journeyVersion: z.number().int(),
  contactId: z.uuid(),
  workflowId: z.string(),
  status: z.enum(['running', 'completed', 'exited', 'converted', 'cancelled', 'failed']),
  currentStep: z.string().nullable(),
  triggerEventId: z.uuid().nullable().describe('the event that started the enrolment (an event trigger): its steps read it as trigger.*'),
  startedAt: z.string(),
  endedAt: z.string().nullable(),
  temporalUiUrl: z.string().describe('this run in the Temporal Web UI'),
  path: z.array(PathEntry).optional().describe(`what the enrolment did so far, from the audit log (its latest ${PATH_SHOWN} records; all of them: GET /v1/audit?enrolmentId=)`),
}).meta({ id: 'Enrolment' });
type EnrolmentView = z.infer<typeof EnrolmentView>;

const EnrolBody = z.object({
  contactId: z.uuid().optional().describe('an existing contact'),
  contact: ContactUpsertSchema.optional().describe('or a contact to upsert inline'),
  idempotencyKey: z.string().min(1).max(200).optional().describe('the same key returns the same enrolment'),
}).refine((b) => (b.contactId === undefined) !== (b.contact === undefined), {
  message: 'give exactly one of contactId or contact', path: ['contactId'],
});

function view(deps: ApiDeps, row: EnrolmentRow): EnrolmentView {
  return {
    id: row.id, journeyKey: row.journeyKey, journeyVersion: row.journeyVersion, contactId: row.contactId,
    workflowId: row.workflowId, status: row.status, currentStep: row.currentStep, triggerEventId: row.triggerEventId,
    startedAt: row.startedAt.toISOString(), endedAt: row.endedAt?.toISOString() ?? null,
    temporalUiUrl: `${deps.temporalUiUrl}/namespaces/${encodeURIComponent(deps.namespace)}/workflows/${encodeURIComponent(row.workflowId)}`,
  };
}

export const enrolmentRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.post('/journeys/:key/enrolments', {
    config: scopes.service,
    schema: {
      tags: ['enrolments'],
      summary: 'Enrol one contact (by id or inline) in the latest published version',
      description: 'Idempotent: a repeated request (same idempotencyKey or Idempotency-Key header, or a contact the re-entry rule does not let in again) returns the existing enrolment with 200 and starts nothing.',
      params: z.object({ key: z.string().min(1).max(64) }),
      headers: z.object({ 'idempotency-key': z.string().min(1).max(200).optional() }),
      body: EnrolBody,
      response: { 200: EnrolmentView, 201: EnrolmentView, ...errorResponses },
    },
  }, async (request, reply) => {
    const { enrolment, created } = await enrol(
      { db, temporal: deps.temporal, taskQueue: deps.taskQueue },
      {
        journeyKey: request.params.key, contactId: request.body.contactId, contact: request.body.contact,
        idempotencyKey: request.body.idempotencyKey ?? request.headers['idempotency-key'],
      },
    );
    return reply.code(created ? 201 : 200).send(view(deps, enrolment));
  });

  app.post('/journeys/:key/enrolments/bulk', {
    config: scopes.service,
    schema: {
      tags: ['enrolments'],
      summary: 'Enrol up to 1,000 contacts at once',
      description: 'Each item is enrolled as by the single route (idempotent; entry rules apply, in item order) and answered in order with its own status; one bad item does not stop the others. A paused journey fails the whole request when an item would need a new enrolment.',
      params: z.object({ key: z.string().min(1).max(64) }),
      body: z.object({ items: z.array(EnrolBody).min(1).max(1000) }),
      response: {
        200: z.object({
          results: z.array(z.object({
            index: z.number().int(), status: z.enum(['created', 'existing', 'error']), enrolment: EnrolmentView.optional(),
            error: z.object({ code: z.string(), message: z.string() }).optional(),
          })),
          created: z.number().int(), existing: z.number().int(), failed: z.number().int(),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    // The journey is read once; an unknown, unpublished or paused journey fails the whole request.
    const target = await enrolmentTarget(db, request.params.key);
    const outcomes = await enrolMany({ db, temporal: deps.temporal, taskQueue: deps.taskQueue }, target, request.body.items);
    const results = outcomes.map((o, index) => (o.status === 'error'
      ? { index, status: o.status, error: { code: o.error.code, message: o.error.message } }
      : { index, status: o.status, enrolment: view(deps, o.enrolment) }));
    const count = (s: string) => outcomes.filter((o) => o.status === s).length;
    return { results, created: count('created'), existing: count('existing'), failed: count('error') };
  });

  app.post('/enrolments/:id/cancel', {
    config: scopes.service,
    schema: {
      tags: ['enrolments'], summary: 'Cancel a running enrolment (it records its own end)',
      params: z.object({ id: z.uuid() }),
      body: z.object({ reason: z.string().min(1).max(200).default('cancelled through the API') }).optional(),
      response: { 202: EnrolmentView, 200: EnrolmentView, ...errorResponses },
    },
  }, async (request, reply) => {
    const reason = request.body?.reason ?? 'cancelled through the API';
    const row = await cancelEnrolment({ db, temporal: deps.temporal, taskQueue: deps.taskQueue }, request.params.id, reason);
    return reply.code(row.status === 'running' ? 202 : 200).send(view(deps, row));
  });

  app.get('/enrolments/:id', {
    config: scopes.service,
    schema: {
      tags: ['enrolments'], summary: 'Status, current step and the path so far',
      params: z.object({ id: z.uuid() }), response: { 200: EnrolmentView, ...errorResponses },
    },
  }, async (request) => {
    const row = await getEnrolment(db, request.params.id);
    const path = (await auditForEnrolment(db, row.id, { last: PATH_SHOWN })).map((r) => ({
      at: r.at.toISOString(), action: r.action, outcome: r.outcome, stepId: r.stepId, stepType: r.stepType, details: r.details,
    }));
    return { ...view(deps, row), path };
  });
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TemplateRow } from '../../db/schema';
import { listTemplateVersions } from '../../services/email/templates';
import { saveTemplateVersion, setTemplateReviewProcess, templateReviewProcessOf } from '../../services/email/template-reviews';
import { actorOf } from '../../services/journeys/reviews';
import { notFound } from '../../services/lib/errors';
import { ProcessKeySchema, TemplateKeySchema } from '../../journey-language';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const TemplateVersion = z.object({
  key: z.string(), version: z.number().int(), subject: z.string(), text: z.string(), html: z.string().nullable(), createdAt: z.string(),
  status: z.enum(['pending_review', 'approved', 'rejected']).describe('only approved versions are pinned by a journey publish (and so sent)'),
  savedBy: z.string().nullable().describe('who saved the version (`user:<id>` or `api_key:<id>`): they cannot approve its review'),
  review: z.object({
    processKey: z.string(), runId: z.uuid().describe('GET /v1/processes/:processKey/runs/:runId'), workflowId: z.string(),
  }).nullable().describe('the review run, for a version saved under a review policy'),
  decidedAt: z.string().nullable().describe('when its review decided it'),
}).meta({ id: 'TemplateVersion' });

const toView = (row: TemplateRow): z.infer<typeof TemplateVersion> => ({
  key: row.key, version: row.version, subject: row.subject, text: row.text, html: row.html, createdAt: row.createdAt.toISOString(),
  status: row.status, savedBy: row.savedBy, decidedAt: row.decidedAt?.toISOString() ?? null,
  review: row.reviewProcess && row.reviewRunId
    ? { processKey: row.reviewProcess, runId: row.reviewRunId, workflowId: `process:${row.reviewProcess}:${row.reviewRunId}` } : null,
});
const KeyParams = z.object({ key: TemplateKeySchema });

export const templateRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const processDeps = { db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.post('/templates', {
    config: scopes.admin,
    schema: {
      tags: ['templates'],
      summary: 'Store a new version of an email template (Liquid)',
      description: 'Variables: contact.* (firstName, email, attributes.x, …), journey.key, unsubscribe_url. A template that does not parse or render is refused (422). Journeys pin the latest approved version when published. Under a review policy (the template\'s own or TEMPLATE_REVIEW_PROCESS) the version is stored `pending_review` and the answer is 202 with its review run; it becomes usable only when that run completes approved, and whoever saved it cannot approve it.',
      body: z.object({ key: TemplateKeySchema, subject: z.string().min(1).max(998), text: z.string().min(1).max(100_000), html: z.string().max(500_000).optional() }),
      response: { 201: TemplateVersion, 202: TemplateVersion, ...errorResponses },
    },
  }, async (request, reply) => {
    const { key, ...content } = request.body;
    const saved = await saveTemplateVersion(processDeps, key, content, actorOf(callerOf(request)), deps.templateReviewProcess);
    return reply.code(saved.run ? 202 : 201).send(toView(saved.version));
  });

  app.put('/templates/:key/review-policy', {
    config: scopes.admin,
    schema: {
      tags: ['templates'], summary: 'Require a review process before any new version of this template is usable',
      description: 'The template need not exist yet. Audited (`template.review_policy_set`). A policy is not lifted or swapped through the API: another process than the current one is a 409.',
      params: KeyParams, body: z.object({ process: ProcessKeySchema }),
      response: { 200: z.object({ key: z.string(), reviewProcess: z.string() }), ...errorResponses },
    },
  }, async (request) => {
    const reviewProcess = await setTemplateReviewProcess(db, request.params.key, request.body.process, actorOf(callerOf(request)));
    return { key: request.params.key, reviewProcess };
  });

  app.get('/templates/:key', {
    config: scopes.service,
    schema: {
      tags: ['templates'], summary: 'The versions of a template, oldest first, a page at a time, with each one\'s review status', params: KeyParams,
      querystring: z.object({ limit: pageLimit(), after: z.coerce.number().int().min(0).optional().describe('nextCursor of the previous page') }),
      response: {
        200: z.object({
          key: z.string(), reviewProcess: z.string().nullable().describe('the process that reviews new versions, if any'),
          versions: z.array(TemplateVersion), nextCursor: NextCursor,
        }),
        ...errorResponses,
      },
    },
  }, async (request) => {
    const page = pageOf(await listTemplateVersions(db, request.params.key, request.query), request.query.limit, (v) => String(v.version));
    if (!page.items.length && request.query.after === undefined) throw notFound('template', 'key', request.params.key);
    const reviewProcess = (await templateReviewProcessOf(db, request.params.key, deps.templateReviewProcess)) ?? null;
    return { key: request.params.key, reviewProcess, versions: page.items.map(toView), nextCursor: page.nextCursor };
  });
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { createTemplateVersion, listTemplateVersions } from '../../services/email/templates';
import { notFound } from '../../services/lib/errors';
import { TemplateKeySchema } from '../../journey-language';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const TemplateVersion = z.object({
  key: z.string(), version: z.number().int(), subject: z.string(), text: z.string(), html: z.string().nullable(), createdAt: z.string(),
}).meta({ id: 'TemplateVersion' });

const toView = (row: { key: string; version: number; subject: string; text: string; html: string | null; createdAt: Date }) =>
  ({ ...row, createdAt: row.createdAt.toISOString() });

export const templateRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.post('/templates', {
    config: scopes.admin,
    schema: {
      tags: ['templates'],
      summary: 'Store a new version of an email template (Liquid)',
      description: 'Variables: contact.* (firstName, email, attributes.x, …), journey.key, unsubscribe_url. A template that does not parse or render is refused (422). Journeys pin the latest version when published.',
      body: z.object({ key: TemplateKeySchema, subject: z.string().min(1).max(998), text: z.string().min(1).max(100_000), html: z.string().max(500_000).optional() }),
      response: { 201: TemplateVersion, ...errorResponses },
    },
  }, async (request, reply) => {
    const { key, ...content } = request.body;
    return reply.code(201).send(toView(await createTemplateVersion(db, key, content)));
  });

  app.get('/templates/:key', {
    config: scopes.service,
    schema: {
      tags: ['templates'], summary: 'The versions of a template, oldest first, a page at a time', params: z.object({ key: TemplateKeySchema }),
      querystring: z.object({ limit: pageLimit(), after: z.coerce.number().int().min(0).optional().describe('nextCursor of the previous page') }),
      response: { 200: z.object({ key: z.string(), versions: z.array(TemplateVersion), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listTemplateVersions(db, request.params.key, request.query), request.query.limit, (v) => String(v.version));
    if (!page.items.length && request.query.after === undefined) throw notFound('template', 'key', request.params.key);
    return { key: request.params.key, versions: page.items.map(toView), nextCursor: page.nextCursor };
  });
};

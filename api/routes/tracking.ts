import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { recordClick, recordOpen } from '../../services/email/engagement';
import type { RouteOptions } from '../deps';
import { page } from '../pages/layout';

/** A transparent 1x1 GIF. */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const Params = z.object({ token: z.string().min(10).max(4000) });

/** Engagement: the open pixel and signed click redirects, recorded as events journeys can use. */
export const trackingRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const enrolDeps = { db: deps.database.db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.get('/t/o/:token', { schema: { tags: ['pages'], summary: 'Open pixel (records email_opened)', params: Params } }, async (request, reply) => {
    await recordOpen(enrolDeps, deps.secrets.signing, request.params.token).catch((err) => request.log.warn({ err }, 'open not recorded'));
    return reply.header('cache-control', 'no-store, max-age=0').type('image/gif').send(PIXEL);
  });

  app.get('/t/c/:token', { schema: { tags: ['pages'], summary: 'Click redirect (records email_clicked)', params: Params } }, async (request, reply) => {
    const target = await recordClick(enrolDeps, deps.secrets.signing, request.params.token);
    if (!target) return reply.code(400).type('text/html; charset=utf-8').send(page('Link not valid', '<h1>This link is not valid</h1>'));
    return reply.header('referrer-policy', 'no-referrer').redirect(target, 302);
  });
};

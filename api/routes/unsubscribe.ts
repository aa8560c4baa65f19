import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { unsubscribe, unsubscribePreview } from '../../services/email/engagement';
import type { RouteOptions } from '../deps';
import { escapeHtml, page } from '../pages/layout';

const Params = z.object({ token: z.string().min(10).max(2000) });
const invalidLink = page('Link not valid', '<h1>This link is not valid</h1><p>It may have been copied incompletely. Use the link in the latest email you received.</p>');

/**
 * GET shows a page with one button; POST unsubscribes at once, without login. Mail clients send
 * the RFC 8058 one-click POST (`List-Unsubscribe=One-Click`) straight to the same address.
 */
export const unsubscribeRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const enrolDeps = { db: deps.database.db, temporal: deps.temporal, taskQueue: deps.taskQueue };
  // RFC 8058 lets mail clients post `List-Unsubscribe=One-Click` urlencoded or as multipart/form-data.
  app.addContentTypeParser(['application/x-www-form-urlencoded', 'multipart/form-data'], { parseAs: 'string', bodyLimit: 4096 }, (_req, body, done) => done(null, body));

  app.get('/unsubscribe/:token', {
    schema: { tags: ['pages'], summary: 'The unsubscribe page (HTML)', params: Params },
  }, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').type('text/html; charset=utf-8');
    const preview = unsubscribePreview(deps.secrets.signing, request.params.token);
    if (!preview) return reply.code(400).send(invalidLink);
    return page('Unsubscribe', `<h1>Unsubscribe</h1>
<p>Stop receiving <strong>${escapeHtml(preview.topic)}</strong> emails from us.</p>
<form method="post" action="/unsubscribe/${escapeHtml(request.params.token)}">
  <input type="hidden" name="List-Unsubscribe" value="One-Click">
  <button type="submit">Unsubscribe</button>
</form>`);
  });

  app.post('/unsubscribe/:token', {
    schema: { tags: ['pages'], summary: 'Unsubscribe at once (RFC 8058 one-click POST or the page\'s button)', params: Params },
  }, async (request, reply) => {
    reply.header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').type('text/html; charset=utf-8');
    const oneClick = isOneClick(request.headers['content-type'], request.body);
    const done = await unsubscribe(enrolDeps, deps.secrets.signing, request.params.token,
      { address: request.ip, userAgent: request.headers['user-agent'], oneClick });
    if (!done) return reply.code(400).send(invalidLink);
    return page('Unsubscribed', `<h1>You are unsubscribed</h1>
<p>${done.email ? `<strong>${escapeHtml(done.email)}</strong> will` : 'You will'} no longer receive <strong>${escapeHtml(done.topic)}</strong> emails from us.</p>
<p class="muted">It may take a moment for emails already on their way.</p>`);
  });
};

/** Whether a POST body is the RFC 8058 one-click answer, urlencoded or multipart/form-data. */
export function isOneClick(contentType: string | undefined, body: unknown): boolean {
  if (typeof body !== 'string') return false;
  if (contentType?.startsWith('multipart/form-data')) {
    return /content-disposition:\s*form-data;\s*name="?List-Unsubscribe"?\s*\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click\r?\n/i.test(body);
  }
  return new URLSearchParams(body).get('List-Unsubscribe') === 'One-Click';
}

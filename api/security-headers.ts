import type { FastifyInstance } from 'fastify';
import { PAGE_STYLE_HASHES } from './pages/layout';

/**
 * The pages' Content-Security-Policy: nothing loads or runs but their own hashed stylesheet
 * (no script at all), forms post only to this origin, no page may be framed (clickjacking on
 * the approver's form or the unsubscribe button), and no <base> may redirect relative links.
 */
export const PAGE_CSP = [
  "default-src 'none'", `style-src ${PAGE_STYLE_HASHES.join(' ')}`, "img-src 'self' data:",
  "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'",
].join('; ');

/**
 * /docs (Swagger UI) runs its own scripts and styles from this origin and sets inline styles,
 * and calls the API from the page ("Try it out"): a looser policy, still unframeable.
 */
export const DOCS_CSP = [
  "default-src 'self'", "script-src 'self'", "style-src 'self' 'unsafe-inline'", "img-src 'self' data:",
  "object-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'self'",
].join('; ');

/**
 * `X-Content-Type-Options: nosniff` on every answer (a JSON error is never sniffed into HTML);
 * HTML answers get their CSP and `X-Frame-Options: DENY` for browsers without frame-ancestors.
 */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onSend', async (request, reply, payload) => {
    reply.header('x-content-type-options', 'nosniff');
    const docs = request.routeOptions.url?.startsWith('/docs') ?? false;
    if (docs) reply.header('content-security-policy', DOCS_CSP);
    else if (String(reply.getHeader('content-type') ?? '').startsWith('text/html')) reply.header('content-security-policy', PAGE_CSP);
    if (docs || reply.hasHeader('content-security-policy')) reply.header('x-frame-options', 'DENY');
    return payload;
  });
}

import type { FastifyRequest } from 'fastify';
import { REDACTED } from '../runtime/logger';

/*
 * Request logs must not carry the signed tokens of emailed links: they act as credentials
 * (unsubscribe, open and click tracking, the approver's single-use task link). Headers are
 * redacted by the logger itself (runtime/logger.ts REDACT_PATHS).
 */

/** Paths whose last segment is a signed token: /unsubscribe/<token>, /t/o/<token>, /t/c/<token>. */
const TOKEN_PATH = /^(\/+unsubscribe\/+|\/+t\/+[oc]\/+)[^/]+/i;
/** Query parameters that carry a credential (the task link's `token`, keys, signatures). */
const SECRET_PARAM = /token|key|secret|signature|sig|password/i;

function decoded(path: string): string {
  try {
    return decodeURIComponent(path);
  } catch {
    return path;
  }
}

/** The URL with token segments and credential parameters replaced by [redacted]. */
export function redactUrl(url: string): string {
  const at = url.indexOf('?');
  const path = at < 0 ? url : url.slice(0, at);
  // Matched on the decoded path, so /%75nsubscribe/<token> is caught like /unsubscribe/<token>.
  const plain = decoded(path);
  const safePath = TOKEN_PATH.test(plain) ? plain.replace(TOKEN_PATH, `$1${REDACTED}`) : path;
  if (at < 0) return safePath;
  const query = url.slice(at + 1).split('&').map((pair) => {
    const eq = pair.indexOf('=');
    const name = eq < 0 ? pair : pair.slice(0, eq);
    return eq >= 0 && SECRET_PARAM.test(decoded(name)) ? `${name}=${REDACTED}` : pair;
  });
  return `${safePath}?${query.join('&')}`;
}

/** Fastify's request serializer, with the URL redacted (and no headers, as Fastify's own). */
export function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method, url: redactUrl(request.url), host: request.host,
    remoteAddress: request.ip, remotePort: request.socket?.remotePort,
  };
}

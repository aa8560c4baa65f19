import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiScope } from '../db/schema';
import { DomainError } from '../services/lib/errors';
import { authenticate, type Caller } from '../services/people/api-keys';
import type { Database } from '../db/client';
import { routeKind, type AuthFailureLimit } from './request-guards';

declare module 'fastify' {
  interface FastifyRequest {
    caller?: Caller;
  }
  interface FastifyContextConfig {
    /** Scopes any one of which lets a key call this route; admin may call every route. */
    scopes?: ApiScope[];
  }
}

/**
 * API keys: 401 without a valid key, 403 when the key's scopes do not cover the route. Routes
 * declare `config: { scopes }`; `admin` covers every route. Decided on the matched route: /v1
 * routes take `Authorization: Bearer <key>` only; HTML pages also take the key as the password of
 * HTTP Basic (a browser can open them) and challenge for it. A client address with too many
 * failed authentications in the last minute is answered 429 before its key is even looked up.
 */
export function registerAuth(app: FastifyInstance, db: Database, failures: AuthFailureLimit): void {
  app.addHook('onRequest', async (request, reply) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes) return;
    const page = routeKind(request) === 'page';
    const header = request.headers.authorization ?? '';
    const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
    if (basic && !page) throw new DomainError(401, 'unauthenticated', 'HTTP Basic is accepted only on pages; send "Authorization: Bearer <key>"');
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined);
    if (!token && page) reply.header('www-authenticate', 'Basic realm="Nurture", charset="UTF-8"');
    if (!token) throw new DomainError(401, 'unauthenticated', 'Send an API key as "Authorization: Bearer <key>"');
    const retryAfter = await failures.blocked(request);
    if (retryAfter !== undefined) {
      reply.header('retry-after', String(retryAfter));
      throw new DomainError(429, 'too_many_failed_authentications', `Too many failed authentications from this address; retry in ${retryAfter} s`);
    }
    const caller = await authenticate(db, token);
    if (!caller) {
      await failures.failed(request);
      throw new DomainError(401, 'unauthenticated', 'The API key is not valid or was revoked');
    }
    request.caller = caller;
    if (!caller.scopes.includes('admin') && !scopes.some((s) => caller.scopes.includes(s))) {
      throw new DomainError(403, 'forbidden', `This route needs a key with the ${scopes.join(' or ')} scope`, { required: scopes, granted: caller.scopes });
    }
  });
}

export function callerOf(request: FastifyRequest): Caller {
  if (!request.caller) throw new DomainError(401, 'unauthenticated', 'Send an API key as "Authorization: Bearer <key>"');
  return request.caller;
}

/** Route config helpers. */
export const scopes = {
  admin: { scopes: ['admin'] as ApiScope[] },
  service: { scopes: ['service'] as ApiScope[] },
  approver: { scopes: ['approver'] as ApiScope[] },
};

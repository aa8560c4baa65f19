import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ApiScope } from '../db/schema';
import { DomainError } from '../services/errors';
import { authenticate, type Caller } from '../services/people';
import type { Database } from '../db/client';

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
 * Bearer API keys for /v1: 401 without a valid key, 403 when the key's scopes do not cover the
 * route. Routes declare `config: { scopes }`; `admin` covers every route.
 */
export function registerAuth(app: FastifyInstance, db: Database): void {
  app.addHook('onRequest', async (request, reply) => {
    const scopes = request.routeOptions.config.scopes;
    if (!scopes) return;
    const header = request.headers.authorization ?? '';
    // Pages also take the key as the password of HTTP Basic auth, so a browser can open them.
    const basic = /^Basic\s+(\S+)$/i.exec(header)?.[1];
    const token = /^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? (basic ? Buffer.from(basic, 'base64').toString('utf8').split(':').slice(1).join(':') : undefined);
    if (!token && !request.url.startsWith('/v1/')) reply.header('www-authenticate', 'Basic realm="Nurture", charset="UTF-8"');
    const caller = token ? await authenticate(db, token) : undefined;
    if (!caller) {
      throw new DomainError(401, 'unauthenticated', token ? 'The API key is not valid or was revoked' : 'Send an API key as "Authorization: Bearer <key>"');
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

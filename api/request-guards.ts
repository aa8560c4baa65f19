import type { FastifyInstance, FastifyRequest } from 'fastify';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import { DomainError } from '../services/lib/errors';

/**
 * What a request is, decided on the route it matched (`routeOptions.url`, the pattern), never on
 * the raw URL: `/%761/contacts` and `//v1/contacts/` reach `/v1/contacts` and are that route.
 * - `api`: the JSON API under /v1 (bearer keys only);
 * - `page`: an HTML page behind an API key (HTTP Basic accepted, so a browser can open it);
 * - `public`: what strangers reach from emails without a key (unsubscribe, tracking, the task
 *   form): limited per client address;
 * - `open`: health, metrics, docs, and unmatched URLs (404).
 */
export type RouteKind = 'api' | 'page' | 'public' | 'open';

/** Routes reached from links in emails, without a key. buildApp checks that each exists. */
export const PUBLIC_ROUTES = ['/unsubscribe/:token', '/t/o/:token', '/t/c/:token', '/tasks/:id'] as const;
const publicRoutes = new Set<string>(PUBLIC_ROUTES);

export function routeKind(request: FastifyRequest): RouteKind {
  const route = request.routeOptions.url;
  if (route === undefined) return 'open';
  if (publicRoutes.has(route)) return 'public';
  if (route === '/v1' || route.startsWith('/v1/')) return 'api';
  return request.routeOptions.config.scopes ? 'page' : 'open';
}

export interface RequestLimits {
  /** Requests per minute per API key (per client address on a keyed route without a key). */
  perKey: number;
  /** Requests per minute per client address to the public routes. */
  publicPerAddress: number;
  /** Failed authentications per minute per client address; past it, keyed routes answer 429. */
  authFailuresPerAddress: number;
}

const client = (request: FastifyRequest) => normalizeIP(request.ip);
const MINUTE = 60_000;

/** The limiter of failed authentications: `blocked` reads the count, `failed` adds one. */
export interface AuthFailureLimit {
  blocked(request: FastifyRequest): Promise<number | undefined>;
  failed(request: FastifyRequest): Promise<void>;
}

/**
 * Rate limits (429 with Retry-After), counted in this process (@fastify/rate-limit's in-memory
 * store: with N API replicas a client gets up to N times the limit). Keyed routes count per key,
 * public routes per client address; both run after authentication (onRequest, after the auth hook).
 */
export async function registerRequestLimits(app: FastifyInstance, limits: RequestLimits): Promise<AuthFailureLimit> {
  await app.register(rateLimit, {
    hook: 'onRequest',
    timeWindow: MINUTE,
    // Enough entries that rotating addresses cannot evict a limited client within a window cheaply.
    cache: 20_000,
    allowList: (request) => routeKind(request) === 'open',
    keyGenerator: (request) => (routeKind(request) === 'public' ? `public:${client(request)}` : request.caller ? `key:${request.caller.keyId}` : `address:${client(request)}`),
    max: (request) => (routeKind(request) === 'public' ? limits.publicPerAddress : limits.perKey),
    errorResponseBuilder: (_request, context) => ({
      statusCode: 429, code: 'RATE_LIMITED', message: `Rate limit of ${context.max} requests per minute reached; retry in ${Math.ceil(context.ttl / 1000)} s`,
    }),
  });
  const failures = app.createRateLimit({
    timeWindow: MINUTE, max: limits.authFailuresPerAddress, allowList: () => false,
    keyGenerator: (request) => `auth-failure:${client(request)}`,
  });
  return {
    async blocked(request) {
      const state = await failures(request, { increment: false });
      return !state.isAllowed && state.remaining === 0 ? Math.max(1, state.ttlInSeconds) : undefined;
    },
    async failed(request) {
      await failures(request);
    },
  };
}

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Every /v1 write sends its body as application/json (415 otherwise). A write without a body
 * (publish, pause, cancel without a reason) may leave the content type out; one that names a
 * content type names JSON, so a form post or text/plain can never reach a /v1 route.
 */
export function requireJsonWrites(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    if (!WRITES.has(request.method) || routeKind(request) !== 'api') return;
    const type = request.headers['content-type'];
    const length = request.headers['content-length'];
    const hasBody = request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
    const json = type !== undefined && type.split(';')[0]!.trim().toLowerCase() === 'application/json';
    if (type === undefined ? hasBody : !json) {
      throw new DomainError(415, 'unsupported_media_type', 'Send the request body as JSON with "Content-Type: application/json"', { contentType: type ?? null });
    }
  });
}

/** JSON bodies nest at most this deep (a definition with the deepest conditions needs about 30). */
export const MAX_JSON_DEPTH = 64;

/** Whether a parsed JSON value nests deeper than `max` (iterative: hostile nesting costs no stack). */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [node, depth] = stack.pop()!;
    if (node === null || typeof node !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(node)) stack.push([child, depth + 1]);
  }
  return false;
}

/**
 * The JSON body parser: an empty body with a JSON content type means no body (curl -X POST
 * -H 'content-type: application/json'); nesting past MAX_JSON_DEPTH is refused (400) before any
 * schema walks it recursively.
 */
export function registerJsonParser(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (body === '' || (typeof body === 'string' && body.trim() === '')) return done(null, undefined);
    // The default parser is the callback form: it answers, errors included, through done and
    // returns nothing (its type also allows the promise form, hence the void).
    void parseJson(request, body as string, (err, parsed) => {
      if (err) return done(err);
      if (nestsDeeperThan(parsed, MAX_JSON_DEPTH)) {
        return done(new DomainError(400, 'too_deeply_nested', `JSON bodies nest at most ${MAX_JSON_DEPTH} levels deep`), undefined);
      }
      done(null, parsed);
    });
  });
}

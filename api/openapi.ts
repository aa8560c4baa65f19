import type { FastifyInstance } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import type { ApiScope } from '../db/schema';
import type { ApiDeps } from './deps';
import { withExamples } from './openapi-examples';
import { PUBLIC_ROUTES } from './request-guards';

interface Operation {
  operationId?: string;
  tags?: string[];
  description?: string;
  security?: Array<Record<string, string[]>>;
  requestBody?: unknown;
  responses?: Record<string, unknown>;
  'x-required-scopes'?: ApiScope[];
}
type Document = { paths?: Record<string, Record<string, Operation>>; components?: Record<string, Record<string, unknown>> };

const ERROR_SCHEMA = {
  type: 'object', required: ['error'], description: 'Every error, from any route',
  properties: {
    error: {
      type: 'object', required: ['code', 'message'],
      properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} },
    },
  },
};
const errorResponse = (description: string) => ({ description, content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } });

/**
 * The OpenAPI document at /openapi.json (browsable at /docs), generated from the routes' zod
 * schemas: shared schemas (journey definition, condition) land in `components.schemas`, so every
 * `$ref` resolves. Each operation then gets what tools and readers need: an operationId, the
 * security it really has (bearer API key on /v1; key or HTTP Basic on HTML pages; none on public
 * routes such as unsubscribe), the scopes its key needs, the error answers every route can give
 * (401/403 where a key is needed, 413 for bodies, 429 rate limits, 503 when Temporal or PostgreSQL
 * do not answer) and a request example with a curl line.
 */
export async function registerOpenApi(app: FastifyInstance, deps: Pick<ApiDeps, 'publicUrl'>): Promise<void> {
  const scopesOf = new Map<string, ApiScope[] | undefined>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) scopesOf.set(`${method.toLowerCase()} ${route.url}`, route.config?.scopes);
  });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Nurture API', version: '1', description: 'Durable marketing journeys on Temporal.' },
      components: {
        securitySchemes: {
          apiKey: { type: 'http', scheme: 'bearer', description: 'An API key (`nrt_…`) as a bearer token; its scopes decide which routes it may call' },
          pageBasic: { type: 'http', scheme: 'basic', description: 'HTML pages only: any user name, the API key as the password (browsers prompt for it)' },
        },
      },
      tags: ['contacts', 'journeys', 'enrolments', 'events', 'segments', 'templates', 'email', 'tasks', 'processes', 'audit', 'people', 'pages', 'ops'].map((name) => ({ name })),
    },
    transform: jsonSchemaTransform,
    transformObject: jsonSchemaTransformObject,
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  let document: unknown;
  app.get('/openapi.json', { schema: { hide: true } }, async () => {
    document ??= withExamples(completeOperations(structuredClone(app.swagger()) as Document, scopesOf) as never, deps.publicUrl());
    return document;
  });
}

/** Security, scopes, operationIds and the shared error answers of every operation. */
export function completeOperations(doc: Document, scopesOf: Map<string, ApiScope[] | undefined>): Document {
  doc.components = { ...doc.components, schemas: { ...doc.components?.schemas, Error: ERROR_SCHEMA } };
  const publicRoutes = new Set<string>(PUBLIC_ROUTES);
  for (const [path, operations] of Object.entries(doc.paths ?? {})) {
    const route = path.replace(/\{(\w+)\}/g, ':$1');
    for (const [method, op] of Object.entries(operations)) {
      const scopes = scopesOf.get(`${method} ${route}`);
      const api = route.startsWith('/v1/');
      op.operationId = operationId(method, route, !api && op.tags?.includes('pages') === true);
      op.security = !scopes || publicRoutes.has(route) ? [] : api ? [{ apiKey: [] }] : [{ apiKey: [] }, { pageBasic: [] }];
      const responses: Record<string, unknown> = { ...op.responses };
      if (scopes) {
        op['x-required-scopes'] = scopes;
        op.description = `${op.description ? `${op.description}\n\n` : ''}**Scopes**: ${scopes.join(' or ')} (an admin key may call every route).`;
        responses['401'] ??= errorResponse('No valid API key');
        responses['403'] ??= errorResponse("The key's scopes do not cover this route");
      }
      if (op.requestBody) responses['413'] ??= errorResponse('The body is over 1 MiB');
      responses['429'] ??= errorResponse('Too many requests from this key or address; see the Retry-After header');
      if (api || route === '/readyz') responses['503'] ??= errorResponse('Temporal or PostgreSQL does not answer; retry later');
      op.responses = responses;
    }
  }
  return doc;
}

/**
 * `POST /v1/journeys/:key/enrolments/bulk` → `postJourneysByKeyEnrolmentsBulk`; an HTML page
 * ends in `Page` (`GET /tasks/:id` → `getTasksByIdPage`, beside the API's `getTasksById`).
 */
export function operationId(method: string, route: string, page = false): string {
  const words = route.replace(/^\/v1(?=\/|$)/, '').split('/').filter(Boolean)
    .map((part) => (part.startsWith(':') ? `by-${part.slice(1)}` : part))
    .flatMap((part) => part.split(/[-_.]/))
    .filter(Boolean);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('') + (page ? 'Page' : '');
}

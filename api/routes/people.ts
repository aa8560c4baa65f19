import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiKeyRow, UserRow } from '../../db/schema';
import { createApiKey, listApiKeys, revokeApiKey } from '../../services/people/api-keys';
import { createUser } from '../../services/people/users';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageLimit, pageOf } from '../paging';

const User = z.object({ id: z.uuid(), email: z.string(), name: z.string(), roles: z.array(z.string()), createdAt: z.string() }).meta({ id: 'User' });
const ApiKey = z.object({
  id: z.uuid(), name: z.string(), prefix: z.string(), scopes: z.array(z.string()), userId: z.string().nullable(),
  createdAt: z.string(), lastUsedAt: z.string().nullable(), revokedAt: z.string().nullable(),
}).meta({ id: 'ApiKey' });
const RoleSchema = z.string().regex(/^[a-z0-9_-]{1,50}$/, 'a role is 1-50 lowercase letters, digits, "_" or "-"');

const userView = (u: UserRow) => ({ id: u.id, email: u.email, name: u.name, roles: u.roles, createdAt: u.createdAt.toISOString() });
const keyView = (k: ApiKeyRow) => ({
  id: k.id, name: k.name, prefix: k.prefix, scopes: k.scopes, userId: k.userId, createdAt: k.createdAt.toISOString(),
  lastUsedAt: k.lastUsedAt?.toISOString() ?? null, revokedAt: k.revokedAt?.toISOString() ?? null,
});

/** Users (approvers and their roles) and API keys: admin only. */
export const peopleRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.post('/users', {
    config: scopes.admin,
    schema: {
      tags: ['people'], summary: 'Create a user (an approver), with roles',
      body: z.object({ email: z.email(), name: z.string().trim().min(1).max(200), roles: z.array(RoleSchema).max(50).default([]) }),
      response: { 201: User, ...errorResponses },
    },
  }, async (request, reply) => reply.code(201).send(userView(await createUser(db, request.body))));

  app.post('/api-keys', {
    config: scopes.admin,
    schema: {
      tags: ['people'], summary: 'Create an API key (the key is shown once)',
      description: 'Scopes: admin (journeys, templates, users, keys; covers every route), service (contacts, events, enrolments), approver (tasks, bound to userId).',
      body: z.object({ name: z.string().trim().min(1).max(200), scopes: z.array(z.enum(['admin', 'service', 'approver'])).min(1).max(3), userId: z.uuid().optional() }),
      response: { 201: ApiKey.extend({ key: z.string().describe('shown once; store it now') }), ...errorResponses },
    },
  }, async (request, reply) => {
    const { key, row } = await createApiKey(db, request.body);
    return reply.code(201).send({ ...keyView(row), key });
  });

  app.get('/api-keys', {
    config: scopes.admin,
    schema: {
      tags: ['people'], summary: 'List API keys (never their secrets), oldest first, a page at a time',
      querystring: z.object({ limit: pageLimit(), after: z.uuid().optional().describe('nextCursor of the previous page') }),
      response: { 200: z.object({ keys: z.array(ApiKey), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listApiKeys(db, request.query), request.query.limit, (k) => k.id);
    return { keys: page.items.map(keyView), nextCursor: page.nextCursor };
  });

  app.post('/api-keys/:id/revoke', {
    config: scopes.admin,
    schema: { tags: ['people'], summary: 'Revoke an API key at once', params: z.object({ id: z.uuid() }), response: { 200: ApiKey, ...errorResponses } },
  }, async (request) => keyView(await revokeApiKey(db, request.params.id)));
};

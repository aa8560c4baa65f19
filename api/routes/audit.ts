import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditRecordRow } from '../../db/schema';
import { queryAudit } from '../../services/audit/records';
import { verifyAudit } from '../../services/audit/verify';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const COLUMNS = ['id', 'at', 'chain', 'seq', 'actor', 'action', 'outcome', 'contactId', 'journeyKey', 'journeyVersion', 'enrolmentId',
  'workflowId', 'stepId', 'stepType', 'idempotencyKey', 'providerMessageId', 'consentState', 'templateVersion', 'test', 'details', 'prevHash', 'hash'] as const;

const AuditRecord = z.object(Object.fromEntries(COLUMNS.map((c) => [c, z.unknown()]))).meta({ id: 'AuditRecord' });

function view(r: AuditRecordRow) {
  return { ...r, at: r.at.toISOString() };
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : typeof value === 'object' ? JSON.stringify(value) : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export const auditRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.get('/audit', {
    config: scopes.admin,
    schema: {
      tags: ['audit'], summary: 'Export audit records by contact, enrolment or journey (JSON, or CSV with format=csv)',
      querystring: z.object({
        contactId: z.uuid().optional(), enrolmentId: z.uuid().optional(), journeyKey: z.string().max(64).optional(),
        format: z.enum(['json', 'csv']).default('json'), limit: z.coerce.number().int().min(1).max(10_000).default(1_000),
        after: z.coerce.number().int().min(0).optional().describe('the last id of the previous page'),
      }).refine((q) => q.contactId || q.enrolmentId || q.journeyKey, { message: 'give contactId, enrolmentId or journeyKey', path: ['contactId'] }),
      response: { 200: z.union([z.object({ records: z.array(AuditRecord), nextAfter: z.number().nullable(), nextCursor: z.string().nullable().describe('the same as nextAfter: pass as `after`') }), z.string()]), ...errorResponses },
    },
  }, async (request, reply) => {
    const rows = await queryAudit(db, request.query);
    const nextAfter = rows.length === request.query.limit ? rows[rows.length - 1]!.id : null;
    if (request.query.format === 'csv') {
      const lines = [COLUMNS.join(','), ...rows.map((r) => { const v = view(r) as Record<string, unknown>; return COLUMNS.map((c) => csvCell(v[c])).join(','); })];
      if (nextAfter) reply.header('x-next-after', String(nextAfter));
      return reply.type('text/csv; charset=utf-8').header('content-disposition', 'attachment; filename="audit.csv"').send(`${lines.join('\n')}\n`);
    }
    return { records: rows.map(view), nextAfter, nextCursor: nextAfter === null ? null : String(nextAfter) };
  });

  app.get('/audit/verify', {
    config: scopes.admin,
    schema: {
      tags: ['audit'], summary: 'Recompute the hash chains and name the first broken link',
      querystring: z.object({ chain: z.string().max(200).optional().describe('one chain, e.g. enrolment:<id> or contact:<id>') }),
      response: {
        200: z.object({
          ok: z.boolean(), chains: z.number(), records: z.number(), unchained: z.number(),
          firstBroken: z.object({ chain: z.string(), seq: z.number(), id: z.number(), reason: z.string() }).optional(),
        }),
        ...errorResponses,
      },
    },
  }, async (request) => verifyAudit(db, request.query.chain));
};

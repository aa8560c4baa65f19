import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { AuditRecordRow, AuditVerificationRow } from '../../db/schema';
import { startVerification } from '../../services/audit/jobs';
import { queryAudit } from '../../services/audit/records';
import { getVerification, latestVerification } from '../../services/audit/verifications';
import { verifyChain } from '../../services/audit/verify';
import { DomainError } from '../../services/lib/errors';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';

const COLUMNS = ['id', 'at', 'chain', 'seq', 'actor', 'action', 'outcome', 'contactId', 'journeyKey', 'journeyVersion', 'enrolmentId',
  'workflowId', 'stepId', 'stepType', 'idempotencyKey', 'providerMessageId', 'consentState', 'templateVersion', 'test', 'details', 'prevHash', 'hash'] as const;

const AuditRecord = z.object(Object.fromEntries(COLUMNS.map((c) => [c, z.unknown()]))).meta({ id: 'AuditRecord' });

function view(r: AuditRecordRow) {
  return { ...r, at: r.at.toISOString() };
}

const BrokenLink = z.object({ chain: z.string(), seq: z.number(), id: z.number(), reason: z.string() });

/** One chain recomputed now (GET /v1/audit/verify?chain=). */
const ChainReport = z.object({ ok: z.boolean(), chains: z.number(), records: z.number(), unchained: z.number(), firstBroken: BrokenLink.optional() });

const Finding = z.object({
  chain: z.string().nullable(),
  reason: z.enum(['chain_missing', 'tail_deleted', 'head_mismatch', 'records_mismatch', 'hash_mismatch', 'prev_hash_mismatch', 'sequence_gap', 'checkpoint_invalid']),
  message: z.string(),
  seq: z.number().optional().describe('a broken link: the record\'s seq'),
  id: z.number().optional().describe('a broken link: the record\'s id'),
  checkpoint: z.object({ seq: z.number(), hash: z.string(), records: z.number() }).optional().describe('the chain\'s head in the checkpoint'),
  found: z.object({ seq: z.number().nullable(), hash: z.string().nullable(), records: z.number() }).optional()
    .describe('the chain now: its last seq, the hash of its record at the checkpointed seq, its records up to that seq'),
}).meta({ id: 'AuditFinding' });

const Verification = ChainReport.extend({
  id: z.uuid(),
  status: z.enum(['running', 'completed', 'failed']),
  requestedAt: z.string(),
  finishedAt: z.string().nullable(),
  error: z.string().nullable(),
  pages: z.number().describe('pages done so far'),
  checkpoint: z.object({
    name: z.string(), location: z.string(), id: z.string().optional(), createdAt: z.string().optional(), keyId: z.string().optional(),
    chains: z.number().optional(), records: z.number().optional(), headsDigest: z.string().optional(), valid: z.boolean(),
  }).nullable().describe('the latest checkpoint the chains were compared with; null when none was written'),
  findings: z.array(Finding).describe('the first 100 findings'),
  findingsTotal: z.number(),
}).meta({ id: 'AuditVerification' });

function verificationView(row: AuditVerificationRow) {
  return {
    ...(row.report as unknown as z.infer<typeof Verification>),
    id: row.id, status: row.status, requestedAt: row.requestedAt.toISOString(), finishedAt: row.finishedAt?.toISOString() ?? null,
    error: row.error, pages: row.page,
  };
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
      tags: ['audit'],
      summary: 'The latest finished verification of every chain against the latest signed checkpoint; with ?chain=, that chain recomputed now',
      description: 'Start a verification with POST /v1/audit/verifications: no request scans every chain. '
        + 'With `chain`, the answer recomputes that one chain\'s links now (the checkpoint comparison is the background job\'s).',
      querystring: z.object({ chain: z.string().max(200).optional().describe('one chain, e.g. enrolment:<id> or contact:<id>') }),
      response: { 200: z.union([Verification, ChainReport]), ...errorResponses },
    },
  }, async (request) => {
    if (request.query.chain) return verifyChain(db, request.query.chain);
    const latest = await latestVerification(db);
    if (!latest) throw new DomainError(404, 'verification_not_found', 'No verification has finished yet: start one with POST /v1/audit/verifications');
    return verificationView(latest);
  });

  app.post('/audit/verifications', {
    config: scopes.admin,
    schema: {
      tags: ['audit'], summary: 'Start a background verification of every chain against the latest signed checkpoint',
      description: 'Answers 202 at once; the report fills in as the job pages through the chains: GET /v1/audit/verifications/{id}.',
      response: { 202: Verification, ...errorResponses },
    },
  }, async (request, reply) => {
    const row = await startVerification(db, { temporal: deps.temporal, taskQueue: deps.taskQueue }, request.caller ? `api_key:${request.caller.keyId}` : undefined);
    return reply.code(202).header('location', `/v1/audit/verifications/${row.id}`).send(verificationView(row));
  });

  app.get('/audit/verifications/:id', {
    config: scopes.admin,
    schema: {
      tags: ['audit'], summary: 'A verification: running, completed (with its report) or failed',
      params: z.object({ id: z.uuid() }),
      response: { 200: Verification, ...errorResponses },
    },
  }, async (request) => verificationView(await getVerification(db, request.params.id)));
};

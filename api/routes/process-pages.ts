import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply } from 'fastify';
import type { Database } from '../../db/client';
import { ProcessKeySchema } from '../../journey-language';
import { getProcess } from '../../services/processes/definitions';
import { exportRun } from '../../services/processes/export';
import { runRecordCsv } from '../../services/processes/export-csv';
import { getRun } from '../../services/processes/runs';
import type { ApiScope } from '../../db/schema';
import { scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { processRunPage } from '../pages/process-run-page';

export const RunParams = z.object({ key: ProcessKeySchema, runId: z.uuid() });
export const ExportQuery = z.object({
  format: z.enum(['json', 'csv', 'html']).default('json')
    .describe('json: the record as data; csv: one line per fact, formula-safe; html: the printable record with every audit hash'),
});

/** A run's record in the asked format: JSON (data), CSV (a download) or the printable HTML page. */
export async function sendRunRecord(db: Database, reply: FastifyReply, params: z.infer<typeof RunParams>, format: z.infer<typeof ExportQuery>['format']) {
  const run = await getRun(db, params.key, params.runId);
  const record = await exportRun(db, run);
  if (format === 'json') return record;
  reply.header('cache-control', 'no-store');
  if (format === 'csv') {
    return reply.type('text/csv; charset=utf-8').header('content-disposition', `attachment; filename="${run.processKey}-${run.id}.csv"`).send(runRecordCsv(record));
  }
  const { name } = await getProcess(db, run.processKey);
  return reply.type('text/html; charset=utf-8').header('referrer-policy', 'no-referrer').send(processRunPage(record, name, { printable: true }));
}

/** A run's checklist page and its exports for browsers (HTTP Basic auth with an API key as the password). */
export const processPageRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.get('/processes/:key/runs/:runId', {
    config: { scopes: ['service', 'approver'] as ApiScope[] },
    schema: { tags: ['pages'], summary: "A run's checklist page (HTML): sections, done marks, who and when, overdue and skipped tasks, the chain's verification", params: RunParams },
  }, async (request, reply) => {
    const run = await getRun(db, request.params.key, request.params.runId);
    const { name } = await getProcess(db, run.processKey);
    const page = processRunPage(await exportRun(db, run), name, { printable: false, exportBase: `/processes/${run.processKey}/runs/${run.id}/export` });
    return reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').send(page);
  });

  app.get('/processes/:key/runs/:runId/export', {
    config: scopes.service,
    schema: { tags: ['pages'], summary: "A run's record for browsers: CSV or the printable page (as GET /v1/processes/:key/runs/:runId/export)", params: RunParams, querystring: ExportQuery },
  }, async (request, reply) => sendRunRecord(db, reply, request.params, request.query.format));
};

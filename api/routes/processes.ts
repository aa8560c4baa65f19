import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { Database } from '../../db/client';
import type { ProcessRow, ProcessRunRow } from '../../db/schema';
import { currentStage, definitionSizeProblem, ProcessKeySchema, ProcessTaskIdSchema, progressOf, tasksOf } from '../../journey-language';
import { DomainError, invalid } from '../../services/lib/errors';
import {
  createProcess, getProcess, getProcessVersion, listProcessVersions, processDraftProblems, publishProcess, updateProcessDraft,
} from '../../services/processes/definitions';
import { actOnTask, changeTaskDue, getRun, runDefinition, runTasks, runTaskStates, startRun } from '../../services/processes/runs';
import type { ApiScope } from '../../db/schema';
import { actorOf } from '../../services/journeys/reviews';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { listRuns } from '../../services/processes/run-list';
import { NextCursor, pageLimit, pageOf } from '../paging';
import { ExportQuery, sendRunRecord } from './process-pages';

const tags = ['processes'];
const KeyParams = z.object({ key: ProcessKeySchema });
const RunParams = KeyParams.extend({ runId: z.uuid() });
const TaskParams = RunParams.extend({ taskId: ProcessTaskIdSchema });
const Definition = z.record(z.string(), z.unknown()).describe('a process definition (see ProcessDefinition); drafts may be incomplete, publishing validates');
const Problem = z.object({ path: z.string(), message: z.string(), stepId: z.string().optional().describe('the task the problem is in') });
const readers = { scopes: ['service', 'approver'] as ApiScope[] };

const ProcessView = z.object({
  key: z.string(), name: z.string(), description: z.string().nullable(), latestVersion: z.number().int().nullable(), draft: z.unknown(),
  draftProblems: z.array(Problem).describe('why the draft cannot be published yet; empty when it can (assignees are checked at publish)'),
  versions: z.array(z.object({ version: z.number().int(), publishedAt: z.string() })),
  createdAt: z.string(), updatedAt: z.string(),
}).meta({ id: 'Process' });

const ProcessCreate = z.object({
  key: ProcessKeySchema, name: z.string().trim().min(1).max(200), description: z.string().max(2000).optional(), definition: Definition,
});
const Published = z.object({ key: z.string(), version: z.number().int(), created: z.boolean(), publishedAt: z.string() });

const Holders = z.object({ userIds: z.array(z.string()), roles: z.array(z.string()) });
const Progress = z.object({
  done: z.number().int(), total: z.number().int().describe('tasks shown: all but the skipped and cancelled'), skipped: z.number().int(),
  overdue: z.array(z.string()).describe('open tasks past their due time'),
  next: Holders.extend({ taskId: z.string(), stage: z.number().int().optional().describe("a sequential approval's current stage (1, 2, …)") }).optional()
    .describe('the first open task, and who may act on it (a sequential approval: its current stage\'s approvers)'),
});
const RunTaskView = z.object({
  taskId: z.string(), section: z.string(), title: z.string(), kind: z.enum(['checklist', 'form', 'approval']), stop: z.boolean(),
  status: z.enum(['pending', 'open', 'done', 'approved', 'rejected', 'skipped', 'cancelled']),
  dueAt: z.string().nullable(), overdue: z.boolean(), completedBy: z.string().nullable(), finishedAt: z.string().nullable(),
  stage: z.number().int().nullable().describe("a sequential approval's current (or last reached) stage, 1, 2, …; null for other tasks"),
});
const RunView = z.object({
  id: z.uuid(), processKey: z.string(), version: z.number().int(), workflowId: z.string(),
  status: z.enum(['running', 'completed', 'rejected']),
  startedBy: z.string().describe('api_key:<id>, schedule:<schedule id> or event:<event id>'), startedAt: z.string(), endedAt: z.string().nullable(),
  progress: Progress, tasks: z.array(RunTaskView),
}).meta({ id: 'ProcessRun' });
const RunSummary = RunView.pick({ id: true, processKey: true, version: true, workflowId: true, status: true, startedBy: true, startedAt: true, endedAt: true })
  .meta({ id: 'ProcessRunSummary' });
const RunListQuery = z.object({
  status: z.enum(['running', 'completed', 'rejected']).optional().describe('only runs in this status'),
  limit: pageLimit(), after: z.uuid().optional().describe('nextCursor of the previous page'),
});

const ActionBody = z.object({
  action: z.enum(['complete', 'approve', 'reject']).describe('complete: a checklist or form task; approve or reject: an approval'),
  values: z.record(z.string(), z.unknown()).default({}).describe("the form's values (a form task, an approval's fields)"),
  comment: z.string().max(5_000).optional(),
});

const DueBody = z.object({
  dueAt: z.iso.datetime({ offset: true }).nullable().describe('the new due time, in the future (422 naming body.dueAt when it has passed); null: no due time'),
  reason: z.string().trim().min(1).max(500).describe("why it moves: stored as written in the run's audit chain, so write no personal data"),
});

async function processView(db: Database, row: ProcessRow): Promise<z.infer<typeof ProcessView>> {
  const versions = await listProcessVersions(db, row.id);
  return {
    key: row.key, name: row.name, description: row.description, latestVersion: row.latestVersion, draft: row.draft,
    draftProblems: processDraftProblems(row.draft), versions: versions.map((v) => ({ version: v.version, publishedAt: v.publishedAt.toISOString() })),
    createdAt: row.createdAt.toISOString(), updatedAt: row.updatedAt.toISOString(),
  };
}

async function runView(db: Database, run: ProcessRunRow): Promise<z.infer<typeof RunView>> {
  const definition = await runDefinition(db, run);
  const rows = await runTasks(db, run.id);
  const states = runTaskStates(definition, rows, run.status !== 'running');
  const byId = new Map(rows.map((r) => [r.taskId, r]));
  return {
    id: run.id, processKey: run.processKey, version: run.version, workflowId: run.workflowId, status: run.status, startedBy: run.startedBy,
    startedAt: run.startedAt.toISOString(), endedAt: run.endedAt?.toISOString() ?? null, progress: progressOf(definition, states),
    tasks: tasksOf(definition).map(({ task, sectionTitle }) => ({
      taskId: task.id, section: sectionTitle, title: task.title, kind: task.kind, stop: task.stop, status: states[task.id]!.status,
      dueAt: byId.get(task.id)?.dueAt?.toISOString() ?? null, overdue: states[task.id]!.overdue,
      completedBy: byId.get(task.id)?.completedBy ?? null, finishedAt: byId.get(task.id)?.finishedAt?.toISOString() ?? null,
      stage: currentStage(states[task.id]!) ?? null,
    })),
  };
}

/** Drafts may be incomplete, not unbounded. */
function refuseOversized(definition: unknown): void {
  const problem = definitionSizeProblem(definition);
  if (problem) throw invalid('definition_too_large', problem, [{ path: 'definition', message: problem }]);
}

export const processRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const processDeps = { db, temporal: deps.temporal, taskQueue: deps.taskQueue };

  app.post('/processes', {
    config: scopes.admin,
    schema: { tags, summary: 'Create a process with a draft definition', body: ProcessCreate, response: { 201: ProcessView, ...errorResponses } },
  }, async (request, reply) => {
    refuseOversized(request.body.definition);
    return reply.code(201).send(await processView(db, await createProcess(db, request.body)));
  });

  app.get('/processes/:key', {
    config: readers,
    schema: { tags, summary: 'Read a process, its draft and its versions', params: KeyParams, response: { 200: ProcessView, ...errorResponses } },
  }, async (request) => processView(db, await getProcess(db, request.params.key)));

  app.put('/processes/:key/draft', {
    config: scopes.admin,
    schema: { tags, summary: 'Replace the draft', params: KeyParams, body: ProcessCreate.omit({ key: true }).partial({ name: true }), response: { 200: ProcessView, ...errorResponses } },
  }, async (request) => {
    refuseOversized(request.body.definition);
    return processView(db, await updateProcessDraft(db, request.params.key, request.body));
  });

  app.post('/processes/:key/publish', {
    config: scopes.admin,
    schema: {
      tags, summary: 'Publish the draft as the next immutable version',
      description: '422 names each bad task and field, including automations that name a journey, segment, template or recipient nobody is, or an internal webhook host; send_email automations get their template version pinned. An unchanged draft returns the latest version (200).',
      params: KeyParams, response: { 200: Published, 201: Published, ...errorResponses },
    },
  }, async (request, reply) => {
    const { process, version, created } = await publishProcess(db, request.params.key, deps.webhookAllowedHosts);
    const published = await getProcessVersion(db, process.id, version);
    return reply.code(created ? 201 : 200).send({ key: process.key, version, created, publishedAt: published.publishedAt.toISOString() });
  });

  app.post('/processes/:key/runs', {
    config: scopes.service,
    schema: {
      tags, summary: 'Start a run of the latest published version', description: '422 names each bad input; 409 when nothing is published yet.',
      params: KeyParams, body: z.object({ inputs: z.record(z.string(), z.unknown()).default({}) }), response: { 201: RunView, ...errorResponses },
    },
  }, async (request, reply) => {
    const run = await startRun(processDeps, request.params.key, request.body.inputs, `api_key:${callerOf(request).keyId}`);
    return reply.code(201).send(await runView(db, run));
  });

  app.get('/processes/:key/runs', {
    config: readers,
    schema: {
      tags, summary: "A process's runs, newest first", description: 'Each run without its tasks (GET the run for its progress); filter by status to find the runs still going.',
      params: KeyParams, querystring: RunListQuery, response: { 200: z.object({ runs: z.array(RunSummary), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listRuns(db, request.params.key, request.query), request.query.limit, (run) => run.id);
    return {
      nextCursor: page.nextCursor,
      runs: page.items.map((run) => ({
        id: run.id, processKey: run.processKey, version: run.version, workflowId: run.workflowId, status: run.status, startedBy: run.startedBy,
        startedAt: run.startedAt.toISOString(), endedAt: run.endedAt?.toISOString() ?? null,
      })),
    };
  });

  app.get('/processes/:key/runs/:runId', {
    config: readers,
    schema: { tags, summary: "A run's progress: done/total, overdue tasks, who holds the next task", params: RunParams, response: { 200: RunView, ...errorResponses } },
  }, async (request) => runView(db, await getRun(db, request.params.key, request.params.runId)));

  app.post('/processes/:key/runs/:runId/tasks/:taskId/complete', {
    config: scopes.approver,
    schema: {
      tags, summary: 'Complete a checklist task, answer a form, or approve or reject an approval',
      description: 'Answers once the run accepted and recorded it. 403 for anyone who is not an assignee (or decided already), 409 when the task is not open, 422 naming each bad field.',
      params: TaskParams, body: ActionBody, response: { 200: RunView, ...errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request);
    if (!caller.user) throw new DomainError(403, 'not_allowed', 'Only an approver key (bound to a user) can act on tasks');
    const run = await getRun(db, request.params.key, request.params.runId);
    await actOnTask(processDeps, run, { taskId: request.params.taskId, ...request.body }, caller.user.id);
    return runView(db, await getRun(db, run.processKey, run.id));
  });

  app.put('/processes/:key/runs/:runId/tasks/:taskId/due', {
    config: scopes.admin,
    schema: {
      tags, summary: "Move an open task's due time (admin)",
      description: "Through the run's changeProcessTaskDue update; audited as process.task_due_changed (old and new due time, reason, who). An overdue task moved into the future is no longer overdue; reminders and an escalation from the due time move with it. 404 for a task the run does not have, 409 when it is not open or the run ended, 422 naming body.dueAt for a time that has passed.",
      params: TaskParams, body: DueBody, response: { 200: RunView, ...errorResponses },
    },
  }, async (request) => {
    const run = await getRun(db, request.params.key, request.params.runId);
    await changeTaskDue(processDeps, run, { taskId: request.params.taskId, ...request.body }, actorOf(callerOf(request)));
    return runView(db, await getRun(db, run.processKey, run.id));
  });

  app.get('/processes/:key/runs/:runId/export', {
    config: scopes.service,
    schema: {
      tags, summary: "A run's record as proof: its checklist, who did what and when, and its audit chain's verification",
      description: 'format=json (default): the record as data; csv: text/csv, one line per fact, cells a spreadsheet would read as a formula get a leading apostrophe; html: the printable record (the audit-ready proof) with every audit hash.',
      params: RunParams, querystring: ExportQuery,
      response: { 200: z.object({}).passthrough().describe('run, progress, checklist, audit, people, verification (format=json; csv and html are text)'), ...errorResponses },
    },
  }, async (request, reply) => sendRunRecord(db, reply, request.params, request.query.format));
};

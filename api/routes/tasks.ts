import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TaskRow } from '../../db/schema';
import { DomainError } from '../../services/lib/errors';
import { acceptTask } from '../../services/tasks/acceptance';
import { completeTask } from '../../services/tasks/decisions';
import { listInbox, mayActOn, processTasksByIds, type InboxProcessTask } from '../../services/processes/inbox';
import { getTask, mayDecide } from '../../services/tasks/tasks';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageOf } from '../paging';

export const TaskView = z.object({
  source: z.literal('journey').describe("a journey's approval or task step"),
  stepType: z.enum(['approval', 'task']).describe('task: a handoff its holder accepts (POST /v1/tasks/:id/accept), then completes'),
  id: z.uuid(), title: z.string(), description: z.string().nullable(), status: z.string(),
  journeyKey: z.string(), stepId: z.string(), contactId: z.uuid(), enrolmentId: z.uuid(),
  assignee: z.object({ userId: z.string().nullable(), role: z.string().nullable() }),
  escalation: z.object({ userId: z.string().nullable(), role: z.string().nullable(), escalatedAt: z.string().nullable() }),
  fields: z.array(z.unknown()), dueAt: z.string().nullable(), overdue: z.boolean(),
  decision: z.string().nullable(), values: z.record(z.string(), z.unknown()).nullable(), comment: z.string().nullable(),
  decidedBy: z.string().nullable(), decidedAt: z.string().nullable(), createdAt: z.string(),
  acceptBy: z.string().nullable().describe("a task step's acceptance deadline (null: an approval, or a task step begun before acceptance existed)"),
  acceptedBy: z.string().nullable(), acceptedAt: z.string().nullable(),
  test: z.boolean().describe("a test run's task: nobody was emailed, and it is in no approver's inbox"),
}).meta({ id: 'Task' });

export function taskView(t: TaskRow): z.infer<typeof TaskView> {
  return {
    source: 'journey', id: t.id, title: t.title, description: t.description, status: t.status, journeyKey: t.journeyKey, stepId: t.stepId,
    contactId: t.contactId, enrolmentId: t.enrolmentId, assignee: { userId: t.assigneeUserId, role: t.assigneeRole },
    escalation: { userId: t.escalationUserId, role: t.escalationRole, escalatedAt: t.escalatedAt?.toISOString() ?? null },
    fields: t.fields, dueAt: t.dueAt?.toISOString() ?? null, overdue: t.status === 'open' && !!t.dueAt && t.dueAt.getTime() < Date.now(),
    decision: t.decision, values: t.values, comment: t.comment, decidedBy: t.decidedBy,
    decidedAt: t.decidedAt?.toISOString() ?? null, createdAt: t.createdAt.toISOString(), test: t.test, stepType: t.stepType,
    acceptBy: t.acceptBy?.toISOString() ?? null, acceptedBy: t.acceptedBy, acceptedAt: t.acceptedAt?.toISOString() ?? null,
  };
}

const ProcessInboxTaskView = z.object({
  source: z.literal('process').describe("a process run's task: act on it with POST /v1/processes/:key/runs/:runId/tasks/:taskId/complete, or on its form page"),
  id: z.uuid().describe('the form page is /tasks/:id'), title: z.string(), kind: z.enum(['checklist', 'form', 'approval']),
  status: z.enum(['open', 'done', 'approved', 'rejected', 'cancelled']),
  processKey: z.string(), runId: z.uuid(), taskId: z.string(), section: z.string(),
  assignees: z.array(z.object({
    userIds: z.array(z.string()), role: z.string().optional(),
    rotation: z.string().optional().describe('a round-robin pick: the rotation it came from (userIds is who it picked)'),
  })).describe("who may act, one entry per assignee or approver (a sequential approval: its current stage's); empty: anyone with an approver key"),
  stage: z.number().int().nullable().describe("a sequential approval's current stage (1, 2, …); null for other tasks"),
  fields: z.array(z.unknown()), dueAt: z.string().nullable(), overdue: z.boolean(),
  completedBy: z.string().nullable(), finishedAt: z.string().nullable(), createdAt: z.string().describe('when it opened'),
}).meta({ id: 'ProcessInboxTask' });

function processTaskView({ row, run, section, fields }: InboxProcessTask): z.infer<typeof ProcessInboxTaskView> {
  return {
    source: 'process', id: row.id, title: row.title, kind: row.kind, status: row.status as z.infer<typeof ProcessInboxTaskView>['status'],
    processKey: run.processKey, runId: run.id, taskId: row.taskId, section, assignees: row.assignees, stage: row.assignees[0]?.stage ?? null, fields,
    dueAt: row.dueAt?.toISOString() ?? null, overdue: row.status === 'open' && !!row.overdueAt,
    completedBy: row.completedBy, finishedAt: row.finishedAt?.toISOString() ?? null, createdAt: (row.openedAt ?? row.finishedAt ?? new Date(0)).toISOString(),
  };
}

export const DecisionBody = z.object({
  decision: z.enum(['approve', 'reject']),
  values: z.record(z.string(), z.unknown()).default({}),
  comment: z.string().max(5_000).optional(),
});

export const taskRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;

  app.get('/tasks', {
    config: scopes.approver,
    schema: {
      tags: ['tasks'], summary: "The caller's inbox: journey approvals and process tasks assigned to them or their roles (admin: all), open and overdue first",
      description: '`source` tells a journey approval (`journey`) from a process run\'s task (`process`).',
      querystring: z.object({
        status: z.enum(['open', 'accepted', 'deciding', 'approved', 'rejected', 'expired', 'cancelled', 'done']).optional().describe('accepted, deciding and expired: journey tasks only; done: process tasks only'),
        source: z.enum(['journey', 'process']).optional().describe('only journey approvals, or only process tasks'),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        after: z.uuid().optional().describe('nextCursor of the previous page'),
        offset: z.coerce.number().int().min(0).max(100_000).default(0).describe('instead of after (older clients); ignored with after'),
      }),
      response: { 200: z.object({ tasks: z.array(z.discriminatedUnion('source', [TaskView, ProcessInboxTaskView])), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listInbox(db, callerOf(request), request.query), request.query.limit, (t) => (t.source === 'journey' ? t.task.id : t.task.row.id));
    return { tasks: page.items.map((t) => (t.source === 'journey' ? taskView(t.task) : processTaskView(t.task))), nextCursor: page.nextCursor };
  });

  app.get('/tasks/:id', {
    config: scopes.approver,
    schema: {
      tags: ['tasks'], summary: 'A task and its form: a journey approval, or a process task (by its inbox id)',
      params: z.object({ id: z.uuid() }), response: { 200: z.discriminatedUnion('source', [TaskView, ProcessInboxTaskView]), ...errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request);
    const [processTask] = await processTasksByIds(db, [request.params.id]);
    if (processTask) {
      if (!caller.scopes.includes('admin') && !(caller.user && mayActOn(processTask.row, caller.user))) throw new DomainError(403, 'not_allowed', 'This task is not assigned to you');
      return processTaskView(processTask);
    }
    const task = await getTask(db, request.params.id);
    if (!caller.scopes.includes('admin') && !(caller.user && mayDecide(task, caller.user))) {
      throw new DomainError(403, 'not_allowed', 'This task is not assigned to you');
    }
    return taskView(task);
  });

  app.post('/tasks/:id/complete', {
    config: scopes.approver,
    schema: {
      tags: ['tasks'], summary: 'Approve or reject, with the form values (a task step: complete or decline)',
      description: 'Answers once the journey accepted the decision. 403 for anyone but the assigned approver (or escalation target; a task step\'s accepted task: who accepted it), 409 for a second completion or for completing (`approve`) a task step\'s task nobody accepted yet (`task_not_accepted`), 422 naming each bad field. A task step\'s `reject` declines it and needs no values.',
      params: z.object({ id: z.uuid() }), body: DecisionBody, response: { 200: TaskView, ...errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request);
    if (!caller.user) throw new DomainError(403, 'not_allowed', 'Only an approver key (bound to a user) can decide tasks');
    return taskView(await completeTask({ db, temporal: deps.temporal }, caller.user, request.params.id, request.body));
  });

  app.post('/tasks/:id/accept', {
    config: scopes.approver,
    schema: {
      tags: ['tasks'], summary: "Accept a task step's task: its holder claims it, then completes it",
      description: 'Before the task\'s `acceptBy`. From then on only the caller may complete (or decline) it. 403 for anyone but its holder, 409 for a task taken by someone else, closed, or one that takes no acceptance (`task_not_acceptable`: an approval). Accepting it again answers the same.',
      params: z.object({ id: z.uuid() }), response: { 200: TaskView, ...errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request);
    if (!caller.user) throw new DomainError(403, 'not_allowed', 'Only an approver key (bound to a user) can accept tasks');
    return taskView(await acceptTask({ db, temporal: deps.temporal }, caller.user, request.params.id));
  });
};

import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { TaskRow } from '../../db/schema';
import { DomainError } from '../../services/lib/errors';
import { completeTask } from '../../services/tasks/decisions';
import { getTask, listTasks, mayDecide } from '../../services/tasks/tasks';
import { callerOf, scopes } from '../auth';
import type { RouteOptions } from '../deps';
import { errorResponses } from '../errors';
import { NextCursor, pageOf } from '../paging';

export const TaskView = z.object({
  id: z.uuid(), title: z.string(), description: z.string().nullable(), status: z.string(),
  journeyKey: z.string(), stepId: z.string(), contactId: z.uuid(), enrolmentId: z.uuid(),
  assignee: z.object({ userId: z.string().nullable(), role: z.string().nullable() }),
  escalation: z.object({ userId: z.string().nullable(), role: z.string().nullable(), escalatedAt: z.string().nullable() }),
  fields: z.array(z.unknown()), dueAt: z.string().nullable(), overdue: z.boolean(),
  decision: z.string().nullable(), values: z.record(z.string(), z.unknown()).nullable(), comment: z.string().nullable(),
  decidedBy: z.string().nullable(), decidedAt: z.string().nullable(), createdAt: z.string(),
  test: z.boolean().describe("a test run's task: nobody was emailed, and it is in no approver's inbox"),
}).meta({ id: 'Task' });

export function taskView(t: TaskRow): z.infer<typeof TaskView> {
  return {
    id: t.id, title: t.title, description: t.description, status: t.status, journeyKey: t.journeyKey, stepId: t.stepId,
    contactId: t.contactId, enrolmentId: t.enrolmentId, assignee: { userId: t.assigneeUserId, role: t.assigneeRole },
    escalation: { userId: t.escalationUserId, role: t.escalationRole, escalatedAt: t.escalatedAt?.toISOString() ?? null },
    fields: t.fields, dueAt: t.dueAt?.toISOString() ?? null, overdue: t.status === 'open' && !!t.dueAt && t.dueAt.getTime() < Date.now(),
    decision: t.decision, values: t.values, comment: t.comment, decidedBy: t.decidedBy,
    decidedAt: t.decidedAt?.toISOString() ?? null, createdAt: t.createdAt.toISOString(), test: t.test,
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
      tags: ['tasks'], summary: "The caller's inbox: tasks assigned to them or their roles (admin: all), open and overdue first",
      querystring: z.object({
        status: z.enum(['open', 'deciding', 'approved', 'rejected', 'expired', 'cancelled']).optional(),
        limit: z.coerce.number().int().min(1).max(200).default(50),
        after: z.uuid().optional().describe('nextCursor of the previous page'),
        offset: z.coerce.number().int().min(0).max(100_000).default(0).describe('instead of after (older clients); ignored with after'),
      }),
      response: { 200: z.object({ tasks: z.array(TaskView), nextCursor: NextCursor }), ...errorResponses },
    },
  }, async (request) => {
    const page = pageOf(await listTasks(db, callerOf(request), request.query), request.query.limit, (t) => t.id);
    return { tasks: page.items.map(taskView), nextCursor: page.nextCursor };
  });

  app.get('/tasks/:id', {
    config: scopes.approver,
    schema: { tags: ['tasks'], summary: 'A task and its form', params: z.object({ id: z.uuid() }), response: { 200: TaskView, ...errorResponses } },
  }, async (request) => {
    const caller = callerOf(request);
    const task = await getTask(db, request.params.id);
    if (!caller.scopes.includes('admin') && !(caller.user && mayDecide(task, caller.user))) {
      throw new DomainError(403, 'not_allowed', 'This task is not assigned to you');
    }
    return taskView(task);
  });

  app.post('/tasks/:id/complete', {
    config: scopes.approver,
    schema: {
      tags: ['tasks'], summary: 'Approve or reject, with the form values',
      description: 'Answers once the journey accepted the decision. 403 for anyone but the assigned approver (or escalation target), 409 for a second completion, 422 naming each bad field.',
      params: z.object({ id: z.uuid() }), body: DecisionBody, response: { 200: TaskView, ...errorResponses },
    },
  }, async (request) => {
    const caller = callerOf(request);
    if (!caller.user) throw new DomainError(403, 'not_allowed', 'Only an approver key (bound to a user) can decide tasks');
    return taskView(await completeTask({ db, temporal: deps.temporal }, caller.user, request.params.id, request.body));
  });
};

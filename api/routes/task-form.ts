import { createHmac, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { TaskRow } from '../../db/schema';
import { DomainError } from '../../services/lib/errors';
import { validateValues, type FormField } from '../../journey-language';
import { authenticate } from '../../services/people/api-keys';
import { getUser } from '../../services/people/users';
import { acceptTask } from '../../services/tasks/acceptance';
import { completeTask } from '../../services/tasks/decisions';
import { checkLink, consumeLink } from '../../services/tasks/links';
import { purposeKey } from '../../services/lib/signing';
import { getTask, mayDecide } from '../../services/tasks/tasks';
import type { ApiDeps, RouteOptions } from '../deps';
import { messagePage, taskFormPage, type FormState } from '../pages/task-form';
import { processTasksByIds } from '../../services/processes/inbox';
import { showProcessTask, submitProcessTask, type FormKit } from './process-task-form';

/**
 * A journey task's form: an approval's fields with Approve and Reject; a task step's offer (not
 * accepted yet) with Accept and Decline and no fields; its accepted task's fields with Complete and Decline.
 */
function formOf(task: TaskRow, state: FormState): string {
  if (!task.acceptBy) return taskFormPage(task, state);
  if (!task.acceptedBy) {
    return taskFormPage({ ...task, fields: [] }, state, [{ value: 'accept', label: `Accept (by ${task.acceptBy.toISOString().replace('T', ' ').slice(0, 16)} UTC)` }, { value: 'reject', label: 'Decline' }]);
  }
  return taskFormPage(task, state, [{ value: 'approve', label: 'Complete' }, { value: 'reject', label: 'Decline' }]);
}

type Approver = { user: { id: string; roles: string[] }; session: string; linkId?: string; token?: string };
const LINK_PROBLEMS = {
  invalid: [400, 'This link is not valid', 'Open the link from your latest email about this task.'],
  expired: [410, 'This link has expired', 'Ask for the task to be sent to you again.'],
  used: [410, 'This link was already used', 'Each link works once. The decision was recorded.'],
} as const;

/** Who is at the form: a single-use link holder, or the bearer of an approver key. */
async function approverOf(deps: ApiDeps, request: FastifyRequest, taskId: string, token?: string): Promise<Approver | keyof typeof LINK_PROBLEMS> {
  if (token) {
    const link = await checkLink(deps.database.db, deps.secrets.signing, taskId, token);
    if (!link.ok) return link.reason;
    const user = await getUser(deps.database.db, link.userId);
    return { user: { id: user.id, roles: user.roles }, session: `link:${link.linkId}`, linkId: link.linkId, token };
  }
  const bearer = /^Bearer\s+(\S+)$/i.exec(request.headers.authorization ?? '')?.[1];
  const caller = bearer ? await authenticate(deps.database.db, bearer) : undefined;
  if (!caller?.user || !caller.scopes.includes('approver')) return 'invalid';
  return { user: caller.user, session: `key:${caller.keyId}` };
}

/** Parses posted strings into typed values by the form's field types. */
function typedValues(fields: FormField[], body: Record<string, string>): Record<string, unknown> {
  const values: Record<string, unknown> = {};
  for (const f of fields) {
    const raw = body[f.name];
    if (f.type === 'checkbox') values[f.name] = raw === 'true' || raw === 'on';
    else if (raw === undefined || raw === '') continue;
    else if (f.type === 'number') values[f.name] = raw.trim() === '' || Number.isNaN(Number(raw)) ? raw : Number(raw);
    else values[f.name] = raw;
  }
  return values;
}

/**
 * The approver's form page: server-rendered, accessible, CSRF-safe (a token bound to the link or
 * key session), `Referrer-Policy: no-referrer`, and the link works once.
 */
export const taskFormRoutes: FastifyPluginAsyncZod<RouteOptions> = async (app, { deps }) => {
  const db = deps.database.db;
  const csrfFor = (session: string, taskId: string) => createHmac('sha256', purposeKey('csrf', deps.secrets.signing)).update(`${session}:${taskId}`).digest('base64url');
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string', bodyLimit: 64 * 1024 }, (_req, body, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(body))));
  });
  const html = (reply: FastifyReply, status: number, body: string) =>
    reply.code(status).header('referrer-policy', 'no-referrer').header('cache-control', 'no-store').header('x-frame-options', 'DENY').type('text/html; charset=utf-8').send(body);
  const refuse = (reply: FastifyReply, reason: keyof typeof LINK_PROBLEMS) => {
    const [status, title, message] = LINK_PROBLEMS[reason];
    return html(reply, status, messagePage(title, message));
  };
  const kit: FormKit = { html, csrfFor, typedValues, processDeps: { db, temporal: deps.temporal, taskQueue: deps.taskQueue } };
  /** A journey approval, else a process task (whose form only an approver key opens: no emailed link names it). */
  const findTask = async (id: string) => {
    const task = await getTask(db, id).catch(() => undefined);
    return { task, processTask: task ? undefined : (await processTasksByIds(db, [id]))[0] };
  };
  const closed = (reply: FastifyReply, task: TaskRow) => html(reply, 409, messagePage('This task is closed', `It was ${task.status === 'approved' ? 'approved' : task.status === 'rejected' ? 'rejected' : task.status}.`));

  app.get('/tasks/:id', {
    schema: { tags: ['pages'], summary: "The approver's form (HTML), opened from the emailed link", params: z.object({ id: z.uuid() }), querystring: z.object({ token: z.string().max(2000).optional() }) },
  }, async (request, reply) => {
    const { task, processTask } = await findTask(request.params.id);
    if (!task && !processTask) return refuse(reply, 'invalid');
    const who = await approverOf(deps, request, request.params.id, request.query.token);
    if (typeof who === 'string') return refuse(reply, who);
    if (!task) return showProcessTask(kit, reply, processTask!, who);
    if (!mayDecide(task, who.user)) return html(reply, 403, messagePage('Not your task', 'This task is assigned to someone else.'));
    if (task.status !== 'open' && task.status !== 'accepted') return closed(reply, task);
    return html(reply, 200, formOf(task, { token: who.token, csrf: csrfFor(who.session, task.id) }));
  });

  app.post('/tasks/:id', {
    schema: { tags: ['pages'], summary: 'Submit the approver form', params: z.object({ id: z.uuid() }) },
  }, async (request, reply) => {
    const body = (request.body ?? {}) as Record<string, string>;
    const { task, processTask } = await findTask(request.params.id);
    if (!task && !processTask) return refuse(reply, 'invalid');
    const who = await approverOf(deps, request, request.params.id, body.token);
    if (typeof who === 'string') return refuse(reply, who);
    const expected = Buffer.from(csrfFor(who.session, request.params.id));
    const given = Buffer.from(String(body._csrf ?? ''));
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return html(reply, 403, messagePage('Form expired', 'Reload the page from your email link and try again.'));
    if (!task) return submitProcessTask(kit, reply, processTask!, who, body);
    if (!mayDecide(task, who.user)) return html(reply, 403, messagePage('Not your task', 'This task is assigned to someone else.'));
    if (task.status !== 'open' && task.status !== 'accepted') return closed(reply, task);
    const refused = async (err: unknown) => {
      if (err instanceof DomainError && err.status === 409) return closed(reply, await getTask(db, task.id));
      if (err instanceof DomainError && err.status < 500) return html(reply, err.status, messagePage('Not accepted', err.message));
      throw err;
    };
    const fresh = { token: who.token, csrf: csrfFor(who.session, task.id) };
    if (body.decision === 'accept') {
      // Accepting keeps the link: its holder comes back with it to complete the task.
      let accepted: TaskRow;
      try {
        accepted = await acceptTask({ db, temporal: deps.temporal }, who.user, task.id);
      } catch (err) {
        return refused(err);
      }
      return html(reply, 200, formOf(accepted, fresh));
    }
    const decision = body.decision === 'reject' ? 'reject' : body.decision === 'approve' ? 'approve' : undefined;
    const fields = task.fields as FormField[];
    const values = typedValues(fields, body);
    const declining = task.acceptBy !== null && decision === 'reject';
    const errors = declining ? {} : Object.fromEntries(validateValues(fields, values).map((p) => [p.field, p.message]));
    if (!decision) errors.decision = 'Choose Approve or Reject';
    if (Object.keys(errors).length) return html(reply, 422, formOf(task, { ...fresh, values: body, errors, comment: body.comment }));
    try {
      await completeTask({ db, temporal: deps.temporal }, who.user, task.id, { decision: decision!, values, comment: body.comment || undefined });
    } catch (err) {
      return refused(err);
    }
    if (who.linkId) await consumeLink(db, who.linkId);
    const verb = task.acceptBy ? (decision === 'approve' ? 'completed' : 'declined') : decision === 'approve' ? 'approved' : 'rejected';
    return html(reply, 200, messagePage(`Thank you: ${verb}`, `You ${verb} “${task.title}”. The journey continues.`));
  });
};

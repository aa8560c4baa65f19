import type { FastifyReply } from 'fastify';
import { validateValues } from '../../journey-language';
import { DomainError } from '../../services/lib/errors';
import { mayActOn, type InboxProcessTask } from '../../services/processes/inbox';
import { actOnTask, type ProcessDeps } from '../../services/processes/runs';
import { APPROVE_OR_REJECT, messagePage, taskFormPage, type FormState } from '../pages/task-form';

/** What the form page lends the process task form: its HTML answer, its CSRF tokens and how it reads posted values. */
export interface FormKit {
  html(reply: FastifyReply, status: number, body: string): FastifyReply;
  csrfFor(session: string, taskId: string): string;
  typedValues(fields: InboxProcessTask['fields'], body: Record<string, string>): Record<string, unknown>;
  processDeps: ProcessDeps;
}

type Who = { user: { id: string; roles: string[] }; session: string };

const ACTIONS = {
  checklist: [{ value: 'complete', label: 'Mark done' }],
  form: [{ value: 'complete', label: 'Submit' }],
  approval: APPROVE_OR_REJECT,
} as const;
const DONE = { complete: 'done', approve: 'approved', reject: 'rejected' } as const;

function formTask(t: InboxProcessTask) {
  return { id: t.row.id, title: t.row.title, description: `${t.run.processKey} · ${t.section}${t.row.assignees[0]?.stage ? ` · stage ${t.row.assignees[0].stage}` : ''}`, dueAt: t.row.dueAt, fields: t.fields };
}

/** Refuses who may not act and what is no longer open; undefined when the form may be shown or taken. */
function refusal(kit: FormKit, reply: FastifyReply, task: InboxProcessTask, who: Who): FastifyReply | undefined {
  if (!mayActOn(task.row, who.user)) return kit.html(reply, 403, messagePage('Not your task', 'This task is assigned to someone else.'));
  if (task.row.status !== 'open' || task.run.status !== 'running') {
    return kit.html(reply, 409, messagePage('This task is closed', `It is ${task.row.status === 'open' ? `open, but the run is ${task.run.status}` : task.row.status}.`));
  }
  return undefined;
}

/** A process task's form (an approver key's session only: process tasks are emailed to nobody, so no link works). */
export function showProcessTask(kit: FormKit, reply: FastifyReply, task: InboxProcessTask, who: Who): FastifyReply {
  return refusal(kit, reply, task, who)
    ?? kit.html(reply, 200, taskFormPage(formTask(task), { csrf: kit.csrfFor(who.session, task.row.id) }, [...ACTIONS[task.row.kind]]));
}

/** Takes the posted form through the run's `actOnProcessTask` update, as POST /v1/processes/…/complete does. */
export async function submitProcessTask(kit: FormKit, reply: FastifyReply, task: InboxProcessTask, who: Who, body: Record<string, string>): Promise<FastifyReply> {
  const refused = refusal(kit, reply, task, who);
  if (refused) return refused;
  const allowed = ACTIONS[task.row.kind].map((a) => a.value as string);
  const action = allowed.includes(body.decision ?? '') ? (body.decision as keyof typeof DONE) : undefined;
  const values = kit.typedValues(task.fields, body);
  const errors = Object.fromEntries(validateValues(task.fields, values).map((p) => [p.field, p.message]));
  if (!action) errors.decision = task.row.kind === 'approval' ? 'Choose Approve or Reject' : 'Submit the form';
  const state: FormState = { csrf: kit.csrfFor(who.session, task.row.id), values: body, errors, comment: body.comment };
  if (Object.keys(errors).length) return kit.html(reply, 422, taskFormPage(formTask(task), state, [...ACTIONS[task.row.kind]]));
  try {
    await actOnTask(kit.processDeps, task.run, { taskId: task.row.taskId, action: action!, values, comment: body.comment || undefined }, who.user.id);
  } catch (err) {
    if (err instanceof DomainError && err.status < 500) return kit.html(reply, err.status, messagePage('Not accepted', err.message));
    throw err;
  }
  return kit.html(reply, 200, messagePage(`Thank you: ${DONE[action!]}`, `“${task.row.title}” is recorded as ${DONE[action!]}. The run continues.`));
}

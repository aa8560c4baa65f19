import { and, asc, eq, inArray, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { tasks, type TaskRow, type TaskStatus } from '../../db/schema';
import { appendAudit } from '../audit/records';
import { findContact, toContact } from '../contacts/contacts';
import { deliverNotice, type EmailSettings } from '../email/delivery';
import { notFound, PermanentError } from '../lib/errors';
import type { FormField, Principal } from '../../journey-language';
import type { Mailer } from '../email/mailer';
import type { Caller } from '../people/api-keys';
import { findUserByEmail, usersInRole } from '../people/users';
import { linkFor } from './links';
import { renderTemplate } from '../lib/templates';
import { triggerOf } from '../enrolment/trigger';
import { takePoolTurn } from '../contacts/owners';

export interface TaskDeps {
  db: Database;
  mailer: Mailer;
  email: EmailSettings;
}

export interface NewTask {
  /** Chosen by the workflow, so it knows the task before the row exists. */
  taskId: string;
  idempotencyKey: string;
  enrolmentId: string;
  workflowId: string;
  stepId: string;
  journeyKey: string;
  journeyVersion: number;
  contactId: string;
  title: string;
  description?: string;
  /**
   * `owner: 'contact'`: the contact's owner when the task is created (a task step); nobody when it
   * has none. `pool`: whose turn it is in the rotation `poolKey` (assign_owner's), taken once per key.
   */
  assignee: Principal | { owner: 'contact' } | { pool: string[]; poolKey: string };
  escalateTo?: Principal;
  fields: FormField[];
  dueAt?: string;
  expiresAt: string;
  /** The step that opens it; `task` (a task step) is audited as such. */
  stepType?: 'approval' | 'task';
  /** A task step's acceptance deadline: its holder accepts it by then, before completing it. */
  acceptBy?: string;
  /** A task step's later assignment: why the task moved on (audited with its creation). */
  reassigned?: 'not_accepted' | 'declined';
  /** A test run's task: it emails nobody and stays out of approvers' inboxes (a test contact's task is one too). */
  test?: boolean;
}

/** Who may decide a task: user ids and a role, resolved when it is created or escalated. */
export interface Deciders {
  userIds: string[];
  role?: string;
}

async function resolve(db: Database, principal: Principal): Promise<Deciders & { emails: Array<{ id: string; email: string }> }> {
  if ('user' in principal) {
    const user = await findUserByEmail(db, principal.user);
    return { userIds: user ? [user.id] : [], emails: user ? [{ id: user.id, email: user.email }] : [] };
  }
  const members = await usersInRole(db, principal.role);
  return { userIds: members.map((u) => u.id), role: principal.role, emails: members.map((u) => ({ id: u.id, email: u.email })) };
}

/**
 * Creates the task once per key (title and description rendered from the contact), records
 * `task.created` and emails each approver a link. Every attempt appends the record (once, by its
 * key), so a retry after a crash between the insert and the record still writes it.
 */
export async function createTask(
  deps: TaskDeps, input: NewTask,
): Promise<{ taskId: string; deciders: Deciders; escalation?: Deciders; holder?: string }> {
  const contact = await findContact(deps.db, input.contactId);
  if (!contact) throw new PermanentError('contact_not_found', `contact ${input.contactId} does not exist (deleted or erased)`);
  const scope = { contact: toContact(contact), journey: { key: input.journeyKey }, trigger: await triggerOf(deps.db, input.enrolmentId) };
  const test = input.test === true || contact.test;
  const principal: Principal = 'owner' in input.assignee ? { user: contact.owner ?? 'nobody@invalid' }
    : 'pool' in input.assignee ? { user: await takePoolTurn(deps.db, { idempotencyKey: `${input.idempotencyKey}:pool`, poolKey: input.assignee.poolKey, pool: input.assignee.pool, dryRun: test }) }
      : input.assignee;
  const assignee = await resolve(deps.db, principal);
  const escalation = input.escalateTo ? await resolve(deps.db, input.escalateTo) : undefined;
  const stepType = input.stepType ?? 'approval';
  const [inserted] = await deps.db.insert(tasks).values({
    id: input.taskId, idempotencyKey: input.idempotencyKey, enrolmentId: input.enrolmentId, workflowId: input.workflowId, stepId: input.stepId,
    journeyKey: input.journeyKey, contactId: input.contactId,
    title: await renderTemplate(input.title, scope), description: input.description ? await renderTemplate(input.description, scope) : null,
    assigneeUserId: 'user' in principal ? assignee.userIds[0] : undefined, assigneeRole: assignee.role,
    escalationUserId: input.escalateTo && 'user' in input.escalateTo ? escalation?.userIds[0] : undefined, escalationRole: escalation?.role,
    fields: input.fields, dueAt: input.dueAt ? new Date(input.dueAt) : undefined, test,
    stepType, acceptBy: input.acceptBy ? new Date(input.acceptBy) : undefined,
  }).onConflictDoNothing().returning();
  const task = inserted ?? (await deps.db.select().from(tasks).where(eq(tasks.idempotencyKey, input.idempotencyKey)))[0]!;
  await appendAudit(deps.db, {
    actor: 'journey', action: 'task.created', outcome: 'open', contactId: input.contactId, journeyKey: input.journeyKey,
    journeyVersion: input.journeyVersion, enrolmentId: input.enrolmentId, workflowId: input.workflowId, stepId: input.stepId,
    stepType, idempotencyKey: `${input.idempotencyKey}:task`, test: task.test,
    details: {
      taskId: task.id, assignee: input.assignee, approvers: assignee.userIds, dueAt: input.dueAt ?? null, expiresAt: input.expiresAt,
      ...(input.acceptBy ? { holder: principal, acceptBy: input.acceptBy, reassigned: input.reassigned ?? null } : {}), ...sandboxed(task),
    },
  });
  await emailLinks(deps, task, assignee.emails, new Date(input.expiresAt), 'created');
  return {
    taskId: task.id, deciders: { userIds: assignee.userIds, role: assignee.role }, escalation: escalation && { userIds: escalation.userIds, role: escalation.role },
    holder: 'pool' in input.assignee ? (principal as { user: string }).user : undefined,
  };
}

/**
 * Emails the signed form link to each person, once per task, person and purpose, through the
 * email ledger without a contact: approvers are users, not CRM contacts. A test task
 * emails nobody: its audit records name the approvers it would have emailed (`sandboxed`).
 */
export async function emailLinks(
  deps: TaskDeps, task: TaskRow, people: Array<{ id: string; email: string }>, expiresAt: Date, purpose: 'created' | 'reminder' | 'escalated',
): Promise<void> {
  if (task.test) return;
  const intro = task.acceptBy
    ? { created: `A task is offered to you: accept it by ${task.acceptBy.toISOString()}`, reminder: 'Reminder: a task offered to you waits to be accepted', escalated: 'A task was escalated to you' }[purpose]
    : { created: 'You have a task to decide', reminder: 'Reminder: a task waits for your decision', escalated: 'A task was escalated to you' }[purpose];
  for (const person of people) {
    const url = await linkFor(deps.db, deps.email.signingSecret, deps.email.publicUrl, task.id, person.id, expiresAt);
    await deliverNotice(deps.db, deps.mailer, deps.email, {
      idempotencyKey: `${task.idempotencyKey}:${purpose}:${person.id}`, to: person.email,
      content: {
        // The title was rendered once, from the step's template, when the task opened: sent as it is.
        subject: `${intro}: ${task.title}`,
        text: `${intro}.\n\n${task.title}\n${task.description ?? ''}\n\nOpen the form: ${url}\n\nThe link works once and expires ${expiresAt.toISOString()}.`,
      },
    });
  }
}

/** Marks the audit details of a test task's records: the approvers they name were not emailed. */
export function sandboxed(task: TaskRow): { sandboxed?: true } {
  return task.test ? { sandboxed: true } : {};
}

export async function getTask(db: Database, id: string): Promise<TaskRow> {
  const [row] = await db.select().from(tasks).where(eq(tasks.id, id));
  if (!row) throw notFound('task', 'id', id);
  return row;
}

/** Whether a user may decide: the assignee (user or role), or the escalation target once escalated; once accepted, only who accepted. */
export function mayDecide(task: TaskRow, user: { id: string; roles: string[] }): boolean {
  // An accepted task step's task is its holder's alone.
  if (task.acceptedBy) return task.acceptedBy === user.id;
  const assigned = task.assigneeUserId === user.id || (task.assigneeRole !== null && user.roles.includes(task.assigneeRole));
  const escalated = task.escalatedAt !== null
    && (task.escalationUserId === user.id || (task.escalationRole !== null && user.roles.includes(task.escalationRole)));
  return assigned || escalated;
}

/** Which tasks an approver's inbox holds (never a test run's task; an accepted one: its holder's only; an admin's: every task). */
export function inboxVisibility(caller: Caller): SQL | undefined {
  if (!caller.user) return undefined;
  const user = caller.user;
  const assigned = or(
    eq(tasks.assigneeUserId, user.id),
    user.roles.length ? inArray(tasks.assigneeRole, user.roles) : undefined,
    and(sql`${tasks.escalatedAt} is not null`, or(eq(tasks.escalationUserId, user.id), user.roles.length ? inArray(tasks.escalationRole, user.roles) : undefined)),
  );
  // A task step's accepted task is its holder's alone (as mayDecide says).
  return and(eq(tasks.test, false), or(eq(tasks.acceptedBy, user.id), and(sql`${tasks.acceptedBy} is null`, assigned)));
}

export async function markTask(db: Database, id: string, change: Partial<Pick<TaskRow, 'remindedAt' | 'escalatedAt' | 'status'>>): Promise<TaskRow> {
  const [row] = await db.update(tasks).set(change).where(eq(tasks.id, id)).returning();
  return row!;
}

/** Open (a task step's accepted ones too) and overdue tasks, for the metrics. */
export async function taskCounts(db: Database): Promise<{ open: number; overdue: number }> {
  const [row] = await db.select({
    open: sql<number>`count(*) filter (where ${tasks.status} in ('open', 'accepted'))::int`,
    overdue: sql<number>`count(*) filter (where ${tasks.status} in ('open', 'accepted') and ${tasks.dueAt} < now())::int`,
  }).from(tasks).where(eq(tasks.test, false));
  return { open: row?.open ?? 0, overdue: row?.overdue ?? 0 };
}

export { resolve as resolvePrincipal };

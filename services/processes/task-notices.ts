import { and, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processTasks, users } from '../../db/schema';
import { widenSlots, type ProcessAssignee } from '../../journey-language';
import { deliverNotice, type EmailSettings } from '../email/delivery';
import type { Mailer } from '../email/mailer';
import { resolveAssignee } from './assignees';
import { auditRun, type TaskRef } from './run-tasks';

/**
 * Reminders and escalations of process tasks, as the run's timers ask for them: each emails the
 * people concerned through the email ledger (a notice without a contact, like an approval's
 * reminder: `deliverNotice`, once per key) and leaves one record in the run's audit chain. The
 * email links the task's form page (`/tasks/:id`, signed in with an approver key: process tasks
 * have no signed links) and the run's checklist page.
 */
export interface NoticeDeps {
  db: Database;
  mailer: Mailer;
  email: EmailSettings;
}

const INTROS = { reminder: 'Reminder: a task waits for you', escalated: 'A task was escalated to you' } as const;

async function emailPeople(deps: NoticeDeps, input: TaskRef, people: Array<{ id: string; email: string }>, purpose: keyof typeof INTROS, key: string): Promise<void> {
  const [row] = await deps.db.select({ id: processTasks.id }).from(processTasks).where(and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId)));
  const base = deps.email.publicUrl;
  const intro = INTROS[purpose];
  for (const person of people) {
    await deliverNotice(deps.db, deps.mailer, deps.email, {
      idempotencyKey: `${input.workflowId}:${input.taskId}:${key}:${person.id}`, to: person.email,
      content: {
        // The title is the definition's text, sent as it is (no template).
        subject: `${intro}: ${input.title}`,
        text: `${intro}.\n\n${input.title}\nProcess ${input.processKey}, run ${input.runId}\n\n`
          + `Open the task (sign in with your approver key): ${base}/tasks/${row?.id ?? ''}\n`
          + `The run's checklist: ${base}/processes/${input.processKey}/runs/${input.runId}\n`,
      },
    });
  }
}

async function peopleByIds(db: Database, ids: string[]) {
  return ids.length ? db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.id, ids)) : [];
}

/** The n-th reminder of an open task to whoever may still act on it (the run's undecided slots' people); audited once. */
export async function remindRunTask(deps: NoticeDeps, input: TaskRef & { reminder: number; userIds: string[] }): Promise<void> {
  const people = await peopleByIds(deps.db, input.userIds);
  await emailPeople(deps, input, people, 'reminder', `reminder:${input.reminder}`);
  await auditRun(deps.db, input, 'process.task_reminded', 'reminded', `${input.taskId}:reminder:${input.reminder}`,
    { reminder: input.reminder, to: people.map((p) => p.id) }, input);
}

/**
 * Escalates an open task: the target's people join the slots that had not decided (`slots`,
 * indexes; none for a task anyone may act on), so the inbox and the form page show it to them,
 * and they are emailed; audited once. Answers who they are.
 */
export async function escalateRunTask(
  deps: NoticeDeps, input: TaskRef & { to: ProcessAssignee; slots: number[]; stage?: number },
): Promise<{ userIds: string[]; role?: string; stale?: boolean }> {
  const where = and(eq(processTasks.runId, input.runId), eq(processTasks.taskId, input.taskId));
  // The stage the run saw: if the next one opened meanwhile, nothing is widened, sent or recorded.
  const [current] = await deps.db.select({ assignees: processTasks.assignees }).from(processTasks).where(where);
  if (input.stage !== undefined && current && current.assignees[0]?.stage !== input.stage) return { userIds: [], stale: true };
  const target = await resolveAssignee(deps.db, input.to, input);
  let stale = false;
  await deps.db.transaction(async (tx) => {
    const [row] = await tx.select({ assignees: processTasks.assignees }).from(processTasks).where(where).for('update');
    if (!row) return;
    if (input.stage !== undefined && row.assignees[0]?.stage !== input.stage) {
      stale = true;
      return;
    }
    const assignees = row.assignees.map((s) => ({ ...s, userIds: [...s.userIds] }));
    widenSlots(assignees, input.slots, target.userIds);
    await tx.update(processTasks).set({ assignees }).where(where);
  });
  if (stale) return { userIds: [], stale };
  await emailPeople(deps, input, await peopleByIds(deps.db, target.userIds), 'escalated', 'escalated');
  await auditRun(deps.db, input, 'process.task_escalated', 'escalated', `${input.taskId}:escalated`, { to: input.to, userIds: target.userIds, slots: input.slots }, input);
  return target;
}

import { eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users, type ProcessTaskRow } from '../../db/schema';
import type { ProcessAssignee, RoundRobinAssignee } from '../../journey-language';
import { takeTurn } from '../lib/rotations';
import { takePoolTurn } from '../contacts/owners';
import { findUserByEmail, usersInRole } from '../people/users';

/** Who may act on a task: one slot per assignee or approver, resolved to people when it (or its stage) opens. */
export type TaskSlot = ProcessTaskRow['assignees'][number];

/** Where a task's slots are resolved: its run's process, the task, and a sequential approval's stage. */
export interface SlotPlace {
  processKey: string;
  taskId: string;
  stage?: number;
}

/** A round-robin's people in turn order: the role's members by user id, or the listed users (unknown emails left out). */
async function rotationPeople(db: Database, who: RoundRobinAssignee['roundRobin']): Promise<string[]> {
  if ('role' in who) return (await usersInRole(db, who.role)).map((u) => u.id).sort();
  const found = await db.select({ id: users.id, email: users.email }).from(users).where(inArray(users.email, who.users.map((e) => e.toLowerCase())));
  const byEmail = new Map(found.map((u) => [u.email.toLowerCase(), u.id]));
  return who.users.flatMap((e) => byEmail.get(e.toLowerCase()) ?? []);
}

/** A task's own rotation for its n-th assignee (a stage's n-th approver): rotations named by people cannot contain ":". */
export const rotationOf = (place: SlotPlace, n: number) => `process:${place.processKey}:${place.taskId}${place.stage ? `:stage:${place.stage}` : ''}:${n}`;

/**
 * The people one assignee names, now: a user (by email or id), a role's members, or for a
 * round-robin the one whose turn it is (the rotation's next turn is taken: call this once per
 * task, in the transaction that stores the slots). `excluded` people (who decided an earlier
 * stage) are left out: nobody decides at two stages.
 */
async function resolve(db: Database, who: ProcessAssignee, rotation: string, excluded: ReadonlySet<string>): Promise<TaskSlot> {
  const keep = (ids: string[]) => ids.filter((id) => !excluded.has(id));
  if ('roundRobin' in who) {
    const people = keep(await rotationPeople(db, who.roundRobin));
    const key = who.rotation ?? rotation;
    return { userIds: people.length ? [people[(await takeTurn(db, key)) % people.length]!] : [], rotation: key };
  }
  if ('role' in who) return { userIds: keep((await usersInRole(db, who.role)).map((u) => u.id)), role: who.role };
  if ('user' in who) {
    const user = await findUserByEmail(db, who.user);
    return { userIds: keep(user ? [user.id] : []) };
  }
  const [user] = await db.select({ id: users.id }).from(users).where(eq(users.id, who.userId));
  return { userIds: keep(user ? [user.id] : []) };
}

/** The slots of a task (or a stage) that opens: one per assignee, in order, each with the stage it belongs to. */
export async function resolveSlots(db: Database, place: SlotPlace, assignees: ProcessAssignee[], excluded: string[] = []): Promise<TaskSlot[]> {
  const slots: TaskSlot[] = [];
  const without = new Set(excluded);
  for (const [n, who] of assignees.entries()) {
    const slot = await resolve(db, who, rotationOf(place, n), without);
    slots.push(place.stage ? { ...slot, stage: place.stage } : slot);
  }
  return slots;
}

/**
 * The people an escalation names, now. A round-robin takes one turn of its rotation (the task's
 * own escalation rotation unless it names one) once per run and task: a retried escalation gets
 * the person it got before (`takePoolTurn`, keyed by the workflow and task).
 */
export async function resolveAssignee(db: Database, who: ProcessAssignee, place: SlotPlace & { workflowId: string }): Promise<TaskSlot> {
  const rotation = `${rotationOf(place, 0)}:escalation`;
  if (!('roundRobin' in who)) return resolve(db, who, rotation, new Set());
  const people = await rotationPeople(db, who.roundRobin);
  const key = who.rotation ?? rotation;
  if (!people.length) return { userIds: [], rotation: key };
  const member = await takePoolTurn(db, { idempotencyKey: `${place.workflowId}:${place.taskId}:escalation`, poolKey: key, pool: people, dryRun: false });
  return { userIds: [member], rotation: key };
}

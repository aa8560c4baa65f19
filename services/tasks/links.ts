import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { taskLinks } from '../../db/schema';
import { readToken, signToken } from '../lib/signing';

/** The signed, expiring link to a task's form for one approver (one link row per task and user). */
export async function linkFor(
  db: Database, secret: string, publicUrl: string, taskId: string, userId: string, expiresAt: Date,
): Promise<string> {
  const [existing] = await db.select().from(taskLinks).where(and(eq(taskLinks.taskId, taskId), eq(taskLinks.userId, userId)));
  const link = existing ?? (await db.insert(taskLinks).values({ taskId, userId, expiresAt }).returning())[0]!;
  const token = signToken('task-link', { l: link.id, t: taskId, exp: Math.floor(link.expiresAt.getTime() / 1000) }, secret);
  return `${publicUrl}/tasks/${taskId}?token=${token}`;
}

export type LinkCheck =
  | { ok: true; linkId: string; userId: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' };

/** Checks a link token for a task: signature, expiry, and that it was never used. */
export async function checkLink(db: Database, secret: string, taskId: string, token: string): Promise<LinkCheck> {
  const read = readToken<{ l: string; t: string; exp: number }>('task-link', token, secret);
  if (!read.ok) return read;
  const payload = read.payload;
  if (payload.t !== taskId) return { ok: false, reason: 'invalid' };
  const [link] = await db.select().from(taskLinks).where(eq(taskLinks.id, payload.l));
  if (!link || link.taskId !== taskId) return { ok: false, reason: 'invalid' };
  if (link.usedAt) return { ok: false, reason: 'used' };
  if (link.expiresAt.getTime() < Date.now()) return { ok: false, reason: 'expired' };
  return { ok: true, linkId: link.id, userId: link.userId };
}

/** Marks a link used; false when it was used already (single use under concurrency). */
export async function consumeLink(db: Database, linkId: string): Promise<boolean> {
  const rows = await db.update(taskLinks).set({ usedAt: sql`now()` })
    .where(and(eq(taskLinks.id, linkId), isNull(taskLinks.usedAt))).returning({ id: taskLinks.id });
  return rows.length > 0;
}

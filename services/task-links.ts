import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { taskLinks } from '../db/schema';
import { signToken, verifyToken } from './signing';

/** The signed, expiring link to a task's form for one approver (one link row per task and user). */
export async function linkFor(
  db: Database, secret: string, publicUrl: string, taskId: string, userId: string, expiresAt: Date,
): Promise<string> {
  const [existing] = await db.select().from(taskLinks).where(and(eq(taskLinks.taskId, taskId), eq(taskLinks.userId, userId)));
  const link = existing ?? (await db.insert(taskLinks).values({ taskId, userId, expiresAt }).returning())[0]!;
  const token = signToken({ l: link.id, t: taskId, exp: Math.floor(link.expiresAt.getTime() / 1000) }, secret);
  return `${publicUrl}/tasks/${taskId}?token=${token}`;
}

export type LinkCheck =
  | { ok: true; linkId: string; userId: string }
  | { ok: false; reason: 'invalid' | 'expired' | 'used' };

/** Checks a link token for a task: signature, expiry, and that it was never used. */
export async function checkLink(db: Database, secret: string, taskId: string, token: string): Promise<LinkCheck> {
  const payload = verifyToken<{ l: string; t: string; exp: number }>(token, secret);
  if (!payload) return { ok: false, reason: isExpiredSignature(token, secret) ? 'expired' : 'invalid' };
  if (payload.t !== taskId) return { ok: false, reason: 'invalid' };
  const [link] = await db.select().from(taskLinks).where(eq(taskLinks.id, payload.l));
  if (!link || link.taskId !== taskId) return { ok: false, reason: 'invalid' };
  if (link.usedAt) return { ok: false, reason: 'used' };
  if (link.expiresAt.getTime() < Date.now()) return { ok: false, reason: 'expired' };
  return { ok: true, linkId: link.id, userId: link.userId };
}

/** A well-signed token whose `exp` passed reads as expired rather than invalid. */
function isExpiredSignature(token: string, secret: string): boolean {
  const [body] = token.split('.');
  try {
    const payload = JSON.parse(Buffer.from(body ?? '', 'base64url').toString('utf8')) as { exp?: number };
    const resigned = signToken({ ...payload }, secret);
    return resigned === token && typeof payload.exp === 'number' && payload.exp * 1000 < Date.now();
  } catch {
    return false;
  }
}

/** Marks a link used; false when it was used already (single use under concurrency). */
export async function consumeLink(db: Database, linkId: string): Promise<boolean> {
  const rows = await db.update(taskLinks).set({ usedAt: sql`now()` })
    .where(and(eq(taskLinks.id, linkId), isNull(taskLinks.usedAt))).returning({ id: taskLinks.id });
  return rows.length > 0;
}

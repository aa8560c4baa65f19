import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { ownerPools } from '../../db/schema';

/**
 * Named round-robin rotations, one row each in `owner_pools` (key → the next turn). The journey
 * step `assign_owner` and round-robin assignees of process tasks take turns from them, so a
 * rotation named in both (an assign_owner `poolKey`, a task's `rotation`) is one rotation. Turns
 * count up for ever; whoever uses one picks `turn % people.length`.
 */

/** Takes the next turn of a rotation with one atomic UPDATE … RETURNING: concurrent callers each get their own turn. */
export async function takeTurn(db: Database, key: string): Promise<number> {
  await db.insert(ownerPools).values({ key, nextIndex: 0 }).onConflictDoNothing();
  const [turn] = await db.update(ownerPools).set({ nextIndex: sql`${ownerPools.nextIndex} + 1` })
    .where(eq(ownerPools.key, key)).returning({ taken: sql<number>`${ownerPools.nextIndex} - 1` });
  return Number(turn!.taken);
}

/** The turn a rotation would give next, without taking it (a test run's sandbox). */
export async function nextTurn(db: Database, key: string): Promise<number> {
  const [row] = await db.select({ next: ownerPools.nextIndex }).from(ownerPools).where(eq(ownerPools.key, key));
  return row?.next ?? 0;
}

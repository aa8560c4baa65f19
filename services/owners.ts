import { eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { appliedEffects, contacts, ownerPools } from '../db/schema';

/**
 * Assigns the contact an owner by round-robin over `pool`, exactly once per idempotency key.
 * The rotation advances with one atomic UPDATE … RETURNING, so concurrent assignments each get
 * the next owner in turn (fair under concurrency); a retried step gets the owner it got before.
 */
export async function assignOwner(
  db: Database,
  input: { idempotencyKey: string; contactId: string; poolKey: string; pool: string[]; onlyIfUnassigned: boolean },
): Promise<{ owner: string | null; assigned: boolean; reason?: string }> {
  return db.transaction(async (tx) => {
    const [previous] = await tx.select().from(appliedEffects).where(eq(appliedEffects.idempotencyKey, input.idempotencyKey));
    if (previous) return previous.result as { owner: string | null; assigned: boolean; reason?: string };
    const [contact] = await tx.select({ owner: contacts.owner }).from(contacts).where(eq(contacts.id, input.contactId)).for('update');
    let result: { owner: string | null; assigned: boolean; reason?: string };
    if (!contact) {
      result = { owner: null, assigned: false, reason: 'contact_missing' };
    } else if (input.onlyIfUnassigned && contact.owner) {
      result = { owner: contact.owner, assigned: false, reason: 'already_owned' };
    } else {
      await tx.insert(ownerPools).values({ key: input.poolKey, nextIndex: 0 }).onConflictDoNothing();
      const [turn] = await tx.update(ownerPools).set({ nextIndex: sql`${ownerPools.nextIndex} + 1` })
        .where(eq(ownerPools.key, input.poolKey)).returning({ taken: sql<number>`${ownerPools.nextIndex} - 1` });
      const owner = input.pool[Number(turn!.taken) % input.pool.length]!;
      await tx.update(contacts).set({ owner, updatedAt: sql`now()` }).where(eq(contacts.id, input.contactId));
      result = { owner, assigned: true };
    }
    await tx.insert(appliedEffects).values({ idempotencyKey: input.idempotencyKey, kind: 'assign_owner', result });
    return result;
  });
}

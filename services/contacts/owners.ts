import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { appliedEffects, contacts, ownerPools } from '../../db/schema';

type Tx = Parameters<Parameters<Database['transaction']>[0]>[0];

/** Whose turn it is in the rotation `poolKey`, without taking it (a test contact's answer). */
async function turnOf(tx: Tx, poolKey: string, pool: string[]): Promise<string> {
  const [row] = await tx.select({ next: ownerPools.nextIndex }).from(ownerPools).where(eq(ownerPools.key, poolKey));
  return pool[(row?.next ?? 0) % pool.length]!;
}

/** Takes the next turn in the rotation `poolKey` with one atomic UPDATE … RETURNING: fair under concurrency. */
async function takeTurn(tx: Tx, poolKey: string, pool: string[]): Promise<string> {
  await tx.insert(ownerPools).values({ key: poolKey, nextIndex: 0 }).onConflictDoNothing();
  const [turn] = await tx.update(ownerPools).set({ nextIndex: sql`${ownerPools.nextIndex} + 1` })
    .where(eq(ownerPools.key, poolKey)).returning({ taken: sql<number>`${ownerPools.nextIndex} - 1` });
  return pool[Number(turn!.taken) % pool.length]!;
}

/**
 * The pool member whose turn it is, in the same rotation as assign_owner (a task step's pool),
 * taken once per idempotency key: a retry gets the member it got before. `dryRun` (a test
 * contact's task) only names whose turn it is and leaves the rotation as it was.
 */
export async function takePoolTurn(
  db: Database, input: { idempotencyKey: string; poolKey: string; pool: string[]; dryRun: boolean },
): Promise<string> {
  return db.transaction(async (tx) => {
    if (input.dryRun) return turnOf(tx, input.poolKey, input.pool);
    const [previous] = await tx.select().from(appliedEffects).where(eq(appliedEffects.idempotencyKey, input.idempotencyKey));
    if (previous) return (previous.result as { member: string }).member;
    const member = await takeTurn(tx, input.poolKey, input.pool);
    await tx.insert(appliedEffects).values({ idempotencyKey: input.idempotencyKey, kind: 'pool_turn', result: { member } });
    return member;
  });
}

/**
 * Assigns the contact an owner by round-robin over `pool`, exactly once per idempotency key.
 * The rotation advances with one atomic UPDATE … RETURNING, so concurrent assignments each get
 * the next owner in turn (fair under concurrency); a retried step gets the owner it got before.
 * A test contact (a test run's) changes nothing: neither the rotation nor the contact turn; the
 * answer (`sandboxed`) names the owner whose turn it is, the one it would have assigned.
 */
export async function assignOwner(
  db: Database,
  input: { idempotencyKey: string; contactId: string; poolKey: string; pool: string[]; onlyIfUnassigned: boolean },
): Promise<{ owner: string | null; assigned: boolean; reason?: string }> {
  return db.transaction(async (tx) => {
    const [previous] = await tx.select().from(appliedEffects).where(eq(appliedEffects.idempotencyKey, input.idempotencyKey));
    if (previous) return previous.result as { owner: string | null; assigned: boolean; reason?: string };
    // An erased contact's tombstone is no contact (contact_missing): it gets no owner.
    const [contact] = await tx.select({ owner: contacts.owner, test: contacts.test }).from(contacts)
      .where(and(eq(contacts.id, input.contactId), isNull(contacts.erasedAt))).for('update');
    let result: { owner: string | null; assigned: boolean; reason?: string };
    if (!contact) {
      result = { owner: null, assigned: false, reason: 'contact_missing' };
    } else if (input.onlyIfUnassigned && contact.owner) {
      result = { owner: contact.owner, assigned: false, reason: 'already_owned' };
    } else if (contact.test) {
      return { owner: await turnOf(tx, input.poolKey, input.pool), assigned: false, reason: 'sandboxed' };
    } else {
      const owner = await takeTurn(tx, input.poolKey, input.pool);
      await tx.update(contacts).set({ owner, updatedAt: sql`now()` }).where(eq(contacts.id, input.contactId));
      result = { owner, assigned: true };
    }
    await tx.insert(appliedEffects).values({ idempotencyKey: input.idempotencyKey, kind: 'assign_owner', result });
    return result;
  });
}

import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { appliedEffects, contacts } from '../../db/schema';
import { nextTurn, takeTurn } from '../lib/rotations';

/**
 * The pool member whose turn it is, in the same rotation as assign_owner (a task step's pool),
 * taken once per idempotency key: a retry gets the member it got before. `dryRun` (a test
 * contact's task) only names whose turn it is and leaves the rotation as it was.
 */
export async function takePoolTurn(
  db: Database, input: { idempotencyKey: string; poolKey: string; pool: string[]; dryRun: boolean },
): Promise<string> {
  return db.transaction(async (tx) => {
    if (input.dryRun) return input.pool[(await nextTurn(tx, input.poolKey)) % input.pool.length]!;
    const [previous] = await tx.select().from(appliedEffects).where(eq(appliedEffects.idempotencyKey, input.idempotencyKey));
    if (previous) return (previous.result as { member: string }).member;
    const member = input.pool[(await takeTurn(tx, input.poolKey)) % input.pool.length]!;
    await tx.insert(appliedEffects).values({ idempotencyKey: input.idempotencyKey, kind: 'pool_turn', result: { member } });
    return member;
  });
}

/**
 * Assigns the contact an owner by round-robin over `pool`, exactly once per idempotency key.
 * The rotation (services/lib/rotations.ts) advances with one atomic UPDATE … RETURNING, so concurrent assignments each get
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
      return { owner: input.pool[(await nextTurn(tx, input.poolKey)) % input.pool.length]!, assigned: false, reason: 'sandboxed' };
    } else {
      const owner = input.pool[(await takeTurn(tx, input.poolKey)) % input.pool.length]!;
      await tx.update(contacts).set({ owner, updatedAt: sql`now()` }).where(eq(contacts.id, input.contactId));
      result = { owner, assigned: true };
    }
    await tx.insert(appliedEffects).values({ idempotencyKey: input.idempotencyKey, kind: 'assign_owner', result });
    return result;
  });
}

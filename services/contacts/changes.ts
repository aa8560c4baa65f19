import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { appliedEffects, contacts, type ContactRow } from '../../db/schema';
import type { UpdateContactStep } from '../../journey-language';
import { tagExpression } from './contacts';

export type ContactChanges = Pick<UpdateContactStep, 'set' | 'addTags' | 'removeTags' | 'scoreDelta'>;

/**
 * Applies a journey's CRM write exactly once: the effect is recorded under its idempotency key in
 * the same transaction as the update, so a retried activity changes nothing twice (a score delta
 * is not added again). Returns whether this call applied it.
 */
export async function applyContactChanges(
  db: Database,
  idempotencyKey: string,
  contactId: string,
  changes: ContactChanges,
): Promise<{ applied: boolean; found: boolean; before?: ContactRow; after?: ContactRow }> {
  return db.transaction(async (tx) => {
    // An erased contact's tombstone is no contact: nothing is written to it.
    const [before] = await tx.select().from(contacts).where(and(eq(contacts.id, contactId), isNull(contacts.erasedAt))).for('update');
    if (!before) return { applied: false, found: false };
    const claimed = await tx.insert(appliedEffects)
      .values({ idempotencyKey, kind: 'contact_update', result: changes })
      .onConflictDoNothing().returning({ key: appliedEffects.idempotencyKey });
    if (!claimed.length) return { applied: false, found: true };
    const set: Record<string, unknown> = { updatedAt: sql`now()` };
    const { attributes, ...fields } = changes.set ?? {};
    for (const [key, value] of Object.entries(fields)) if (value !== undefined) set[key] = value;
    if (attributes) set.attributes = sql`${contacts.attributes} || ${JSON.stringify(attributes)}::jsonb`;
    if (changes.scoreDelta) set.score = sql`${contacts.score} + ${changes.scoreDelta}`;
    const tags = tagExpression(undefined, changes.addTags, changes.removeTags);
    if (tags) set.tags = tags;
    const [after] = await tx.update(contacts).set(set).where(eq(contacts.id, contactId)).returning();
    return { applied: true, found: true, before, after };
  });
}

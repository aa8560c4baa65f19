import { sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { consentsOnChannel, suppressionOfEmail } from '../../db/queries/contacts';
import { contactConsents, suppressions } from '../../db/schema';

export type ConsentStatus = 'granted' | 'denied';
export type ConsentMode = 'opt_in' | 'opt_out';

export interface ConsentChange {
  channel: string;
  topic: string;
  status: ConsentStatus;
  source: string;
}

/** Records consent for a channel and topic (the latest word wins), with its source and time. */
export async function setConsent(db: Database, contactId: string, change: ConsentChange): Promise<void> {
  await db.insert(contactConsents).values({ contactId, ...change })
    .onConflictDoUpdate({
      target: [contactConsents.contactId, contactConsents.channel, contactConsents.topic],
      set: { status: change.status, source: change.source, at: sql`now()` },
    });
}

/**
 * Withdraws consent unless it is withdrawn already: true when this call changed it. Decided by
 * the database in one statement, so of two concurrent unsubscribes exactly one changes it.
 */
export async function withdrawConsent(db: Database, contactId: string, change: Omit<ConsentChange, 'status'>): Promise<boolean> {
  const changed = await db.insert(contactConsents).values({ contactId, ...change, status: 'denied' })
    .onConflictDoUpdate({
      target: [contactConsents.contactId, contactConsents.channel, contactConsents.topic],
      set: { status: 'denied', source: change.source, at: sql`now()` },
      setWhere: sql`${contactConsents.status} <> 'denied'`,
    }).returning({ contactId: contactConsents.contactId });
  return changed.length > 0;
}

/**
 * Whether a contact may get email on a topic: an explicit denial of the topic (or of `all`)
 * always wins; without an answer, opt_out mode allows and opt_in mode does not.
 */
export async function consentFor(
  db: Database, contactId: string, channel: string, topic: string, mode: ConsentMode,
): Promise<{ allowed: boolean; state: string }> {
  const rows = await consentsOnChannel(db, contactId, channel);
  const all = rows.find((r) => r.topic === 'all');
  const specific = rows.find((r) => r.topic === topic);
  if (all?.status === 'denied') return { allowed: false, state: `denied (all, ${all.source})` };
  if (specific) return { allowed: specific.status === 'granted', state: `${specific.status} (${specific.source})` };
  if (all) return { allowed: true, state: `granted (all, ${all.source})` };
  return { allowed: mode === 'opt_out', state: `unknown (${mode})` };
}

export async function suppress(db: Database, email: string, reason: 'hard_bounce' | 'complaint' | 'manual', source: string): Promise<void> {
  await db.insert(suppressions).values({ email: email.trim().toLowerCase(), reason, source }).onConflictDoNothing();
}

export async function suppressionOf(db: Database, email: string) {
  return suppressionOfEmail(db, email.trim().toLowerCase());
}

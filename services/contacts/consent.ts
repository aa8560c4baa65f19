import type { Database } from '../../db/client';
import { consentsOnChannel, suppressionOfEmail } from '../../db/queries/contacts';
import { suppressions } from '../../db/schema';
import { digestOf } from '../audit/records';

export type ConsentStatus = 'granted' | 'denied';
export type ConsentMode = 'opt_in' | 'opt_out';

/**
 * Whether a contact may get email on a topic: an explicit denial of the topic (or of `all`)
 * always wins; without an answer, opt_out mode allows and opt_in mode does not.
 */
export async function consentFor(
  db: Database, contactId: string, channel: string, topic: string, mode: ConsentMode,
): Promise<ConsentDecision> {
  const rows = await consentsOnChannel(db, contactId, channel);
  const all = rows.find((r) => r.topic === 'all');
  const specific = rows.find((r) => r.topic === topic);
  if (all?.status === 'denied') return { allowed: false, state: `denied (all, ${all.source})`, basis: 'all', recordId: all.historyId };
  if (specific) return { allowed: specific.status === 'granted', state: `${specific.status} (${specific.source})`, basis: 'topic', recordId: specific.historyId };
  if (all) return { allowed: true, state: `granted (all, ${all.source})`, basis: 'all', recordId: all.historyId };
  return { allowed: mode === 'opt_out', state: `unknown (${mode})`, basis: 'mode', recordId: null };
}

/**
 * What decided consent: the topic's own answer, the answer for `all`, or no answer (CONSENT_MODE
 * decides); `recordId` is the consent history row behind the answer (null when none, or for a
 * consent recorded before the ledger and not backfilled).
 */
export interface ConsentDecision {
  allowed: boolean;
  state: string;
  basis: 'topic' | 'all' | 'mode';
  recordId: number | null;
}

export async function suppress(db: Database, email: string, reason: 'hard_bounce' | 'complaint' | 'manual', source: string): Promise<void> {
  await db.insert(suppressions).values({ email: email.trim().toLowerCase(), reason, source }).onConflictDoNothing();
}

/** The address's suppression, also one an erasure kept as the address's digest (services/contacts/erasure-steps.ts). */
export async function suppressionOf(db: Database, email: string) {
  const normalised = email.trim().toLowerCase();
  return suppressionOfEmail(db, normalised, digestOf(normalised));
}

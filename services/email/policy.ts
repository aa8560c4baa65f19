import type { Database } from '../../db/client';
import { marketingEmailsSince } from '../../db/queries/emails';
import type { ContactRow } from '../../db/schema';
import { consentFor, suppressionOf, type ConsentMode } from '../contacts/consent';
import { durationToMs } from '../../journey-language';

export interface FrequencyCap {
  count: number;
  windowMs: number;
}

/** "5/7d" → at most 5 marketing emails per 7 days; "off" → no cap. */
export function parseFrequencyCap(value: string): FrequencyCap | undefined {
  if (value === 'off') return undefined;
  const [n, window] = value.split('/');
  return { count: Number(n), windowMs: durationToMs(window!)! };
}

export interface SendPolicy {
  consentMode: ConsentMode;
  frequencyCap?: FrequencyCap;
}

export type PolicyVerdict =
  | { allowed: true; consentState: string }
  | { allowed: false; reason: 'suppressed' | 'no_consent' | 'frequency_cap'; consentState: string; detail: string };

/**
 * The checks made just before a send: the suppression list (every email), consent for the topic
 * and the per-contact frequency cap (marketing email only).
 */
export async function checkSend(
  db: Database, policy: SendPolicy, contact: ContactRow & { email: string }, category: 'marketing' | 'transactional', topic: string,
): Promise<PolicyVerdict> {
  const suppressed = await suppressionOf(db, contact.email);
  if (suppressed) return { allowed: false, reason: 'suppressed', consentState: 'n/a', detail: `${suppressed.reason} (${suppressed.source})` };
  if (category === 'transactional') return { allowed: true, consentState: 'not required (transactional)' };
  const consent = await consentFor(db, contact.id, 'email', topic, policy.consentMode);
  if (!consent.allowed) return { allowed: false, reason: 'no_consent', consentState: consent.state, detail: `email/${topic}: ${consent.state}` };
  if (policy.frequencyCap) {
    const since = new Date(Date.now() - policy.frequencyCap.windowMs);
    const sent = await marketingEmailsSince(db, contact.id, since);
    if (sent >= policy.frequencyCap.count) {
      return { allowed: false, reason: 'frequency_cap', consentState: consent.state, detail: `${sent} marketing emails in the window (cap ${policy.frequencyCap.count})` };
    }
  }
  return { allowed: true, consentState: consent.state };
}

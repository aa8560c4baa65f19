import type { Database } from '../../db/client';
import { marketingEmailsSince } from '../../db/queries/emails';
import type { ContactRow } from '../../db/schema';
import { consentFor, suppressionOf, type ConsentDecision, type ConsentMode } from '../contacts/consent';
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

export type EmailCategory = 'marketing' | 'transactional';

/**
 * What the send-time checks found, as they found it: kept with the send (the ledger's
 * `evidence`, the step's audit record) so the answer to "why was this sent, or not" is what was
 * true then. Ids and outcomes only, no address or content.
 */
export interface SendChecks {
  checkedAt: string;
  /** The category the email was checked as; `requestedCategory` differs when a transactional step had no admin-marked reason. */
  category: EmailCategory;
  requestedCategory: EmailCategory;
  topic: string;
  /** Why an admin marked the step transactional (recorded when its journey was published). */
  transactionalReason: string | null;
  suppression: { passed: boolean; reason: string | null; source: string | null; since: string | null };
  consent:
    | { required: false; passed: true; why: string }
    | { required: true; passed: boolean; state: string; basis: ConsentDecision['basis']; mode: ConsentMode; recordId: number | null };
  frequencyCap:
    | { applied: false; passed: true; why: string }
    | { applied: true; passed: boolean; sent: number; limit: number; windowMs: number; since: string };
}

export type SkipReason = 'suppressed' | 'no_consent' | 'frequency_cap';

export type PolicyVerdict =
  | { allowed: true; consentState: string; checks: SendChecks }
  | { allowed: false; reason: SkipReason; consentState: string; detail: string; checks: SendChecks };

export interface SendIntent {
  category: EmailCategory;
  topic: string;
  transactionalReason?: string;
}

/**
 * The checks made just before a send, every one of them whatever the first refusal, so the
 * evidence is complete: the suppression list (every email, transactional too), consent for the
 * topic and the per-contact frequency cap (marketing email only). An email is transactional only
 * with the reason an admin gave for its step; one without is checked as marketing.
 */
export async function checkSend(db: Database, policy: SendPolicy, contact: ContactRow & { email: string }, intent: SendIntent): Promise<PolicyVerdict> {
  const transactional = intent.category === 'transactional' && Boolean(intent.transactionalReason);
  const category: EmailCategory = transactional ? 'transactional' : 'marketing';
  const suppressed = await suppressionOf(db, contact.email);
  const consent = transactional ? undefined : await consentFor(db, contact.id, 'email', intent.topic, policy.consentMode);
  const cap = transactional || !policy.frequencyCap ? undefined : await capCheck(db, policy.frequencyCap, contact.id);
  const checks: SendChecks = {
    checkedAt: new Date().toISOString(), category, requestedCategory: intent.category, topic: intent.topic,
    transactionalReason: transactional ? intent.transactionalReason! : null,
    suppression: { passed: !suppressed, reason: suppressed?.reason ?? null, source: suppressed?.source ?? null, since: suppressed?.createdAt.toISOString() ?? null },
    consent: consent
      ? { required: true, passed: consent.allowed, state: consent.state, basis: consent.basis, mode: policy.consentMode, recordId: consent.recordId }
      : { required: false, passed: true, why: `transactional: ${intent.transactionalReason}` },
    frequencyCap: cap ?? { applied: false, passed: true, why: transactional ? 'transactional' : 'no cap configured (EMAIL_FREQUENCY_CAP=off)' },
  };
  const consentState = consent ? consent.state : 'not required (transactional)';
  if (suppressed) return { allowed: false, reason: 'suppressed', consentState: 'n/a', detail: `${suppressed.reason} (${suppressed.source})`, checks };
  if (consent && !consent.allowed) return { allowed: false, reason: 'no_consent', consentState, detail: `email/${intent.topic}: ${consent.state}`, checks };
  if (cap && !cap.passed) {
    return { allowed: false, reason: 'frequency_cap', consentState, detail: `${cap.sent} marketing emails in the window (cap ${cap.limit})`, checks };
  }
  return { allowed: true, consentState, checks };
}

async function capCheck(db: Database, cap: FrequencyCap, contactId: string): Promise<SendChecks['frequencyCap']> {
  const since = new Date(Date.now() - cap.windowMs);
  const sent = await marketingEmailsSince(db, contactId, since);
  return { applied: true, passed: sent < cap.count, sent, limit: cap.count, windowMs: cap.windowMs, since: since.toISOString() };
}

/** The checks of a notice to someone who is no contact (an approver's task link): the suppression list only. */
export async function checkNotice(db: Database, to: string): Promise<PolicyVerdict> {
  const suppressed = await suppressionOf(db, to);
  const notContact = 'a notice to an approver, who is no contact';
  const checks: SendChecks = {
    checkedAt: new Date().toISOString(), category: 'transactional', requestedCategory: 'transactional', topic: 'notice',
    transactionalReason: notContact,
    suppression: { passed: !suppressed, reason: suppressed?.reason ?? null, source: suppressed?.source ?? null, since: suppressed?.createdAt.toISOString() ?? null },
    consent: { required: false, passed: true, why: notContact }, frequencyCap: { applied: false, passed: true, why: notContact },
  };
  const consentState = 'not required (transactional)';
  if (suppressed) return { allowed: false, reason: 'suppressed', consentState: 'n/a', detail: `${suppressed.reason} (${suppressed.source})`, checks };
  return { allowed: true, consentState, checks };
}

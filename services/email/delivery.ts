import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailRowByKey } from '../../db/queries/emails';
import { outgoingEmails, type OutgoingEmailStatus } from '../../db/schema';
import { findContact, toContact } from '../contacts/contacts';
import { PermanentError } from '../lib/errors';
import { getTemplate, renderContent, trackableLinks, unsubscribeUrl, withTracking, withUnsubscribeFooter, type EmailContent, type LinkSettings } from './content';
import { templateRoots } from '../../journey-language';
import { triggerOf } from '../enrolment/trigger';
import { checkNotice, checkSend, type SendChecks, type SendPolicy } from './policy';
import type { Mailer } from './mailer';

export interface EmailSettings extends LinkSettings, SendPolicy {
  from: string;
  /** Rewrite links and add an open pixel in HTML emails. */
  tracking: boolean;
}

export interface EmailRequest {
  idempotencyKey: string;
  enrolmentId?: string;
  contactId: string;
  stepId?: string;
  category?: 'marketing' | 'transactional';
  topic?: string;
  /** Why an admin marked the step transactional; a transactional email without one is checked as marketing. */
  transactionalReason?: string;
  /** Inline Liquid content, or a pinned template version. */
  content?: EmailContent;
  template?: { key: string; version: number };
  /** Extra Liquid variables besides `contact` and `unsubscribe_url`. */
  scope?: Record<string, unknown>;
}

/**
 * What a send did, as the workflow gets it (and Temporal keeps it in the run's history): no
 * address or content, only the outcome; the ledger row (same idempotency key) holds the rest.
 */
export interface EmailResult {
  status: 'sent' | 'captured' | 'skipped' | 'unknown';
  reason?: string;
  providerMessageId?: string;
  consentState?: string;
  templateVersion?: number;
  /** What the send-time checks found (absent when no check ran, e.g. the contact has no address). */
  checks?: SendChecks;
  /** True when a previous attempt had already settled this send. */
  replayed: boolean;
}

/** Message-ID derived from the idempotency key: the same send always carries the same id. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'nurture.local';
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/**
 * Sends one email exactly once per idempotency key, after the send-time checks (suppression,
 * consent, frequency cap: a skip is settled with its reason). A ledger row is claimed before
 * sending and settled after; a retry finds the settled row and returns it. A clean failure marks
 * the row `retry` so the next attempt sends; an attempt that died mid-send leaves `sending`, which
 * is settled as `unknown` and never resent (a duplicate is worse than a gap; the audit says so).
 */
export async function deliverEmail(db: Database, mailer: Mailer, settings: EmailSettings, req: EmailRequest): Promise<EmailResult> {
  const settled = await previousEmail(db, req.idempotencyKey);
  if (settled) return settled;

  const topic = req.topic ?? 'marketing';
  const contact = await findContact(db, req.contactId);
  if (!contact) throw new PermanentError('contact_not_found', `contact ${req.contactId} does not exist (deleted or erased)`);
  if (!contact.email) return { status: 'skipped', reason: 'no_email_address', replayed: false };
  const to = contact.email;
  const verdict = await checkSend(db, settings, { ...contact, email: to }, { category: req.category ?? 'marketing', topic, transactionalReason: req.transactionalReason });
  const { category } = verdict.checks;
  const template = req.template ? await getTemplate(db, req.template.key, req.template.version) : undefined;
  const base = { idempotencyKey: req.idempotencyKey, enrolmentId: req.enrolmentId, contactId: req.contactId, stepId: req.stepId,
    toAddress: to, fromAddress: settings.from, category, templateKey: template?.key, templateVersion: template?.version,
    evidence: evidenceOf(verdict.checks) };

  if (!verdict.allowed) return settleSkipped(db, base, verdict.reason, verdict.consentState);

  const unsubscribe = category === 'marketing' ? unsubscribeUrl(settings, contact.id, topic) : undefined;
  const source: EmailContent = template ? { subject: template.subject, text: template.text, html: template.html ?? undefined } : req.content!;
  const trigger = readsTriggerIn(source) ? await triggerOf(db, req.enrolmentId) : undefined;
  const scope = { ...req.scope, contact: toContact(contact), trigger, unsubscribe_url: unsubscribe ?? '' };
  let content = await renderContent(source, scope);
  if (unsubscribe) content = withUnsubscribeFooter(content, unsubscribe);
  if (content.html && settings.tracking) {
    const ctx = { contactId: contact.id, enrolmentId: req.enrolmentId, stepId: req.stepId };
    content = { ...content, html: withTracking(content.html, settings, ctx, unsubscribe ? [unsubscribe] : [], trackableLinks(source.html ?? '')) };
  }

  const headers: Record<string, string> = unsubscribe
    ? { 'List-Unsubscribe': `<${unsubscribe}>`, 'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click' }
    : {};
  return sendOnce(db, mailer, { ...base, subject: content.subject, textBody: content.text, htmlBody: content.html, consentState: verdict.consentState }, headers);
}

/**
 * Sends one transactional email to an address that is no contact (an approver's task link),
 * exactly once per idempotency key through the same ledger, so approvers never become CRM
 * contacts. Only the suppression list applies (consent, the frequency cap and unsubscribe links
 * are a contact's); the content is final text, with no Liquid and no tracking.
 */
export async function deliverNotice(
  db: Database, mailer: Mailer, settings: Pick<EmailSettings, 'from'>, req: { idempotencyKey: string; to: string; content: EmailContent },
): Promise<EmailResult> {
  const settled = await previousEmail(db, req.idempotencyKey);
  if (settled) return settled;
  const verdict = await checkNotice(db, req.to);
  const base = { idempotencyKey: req.idempotencyKey, toAddress: req.to, fromAddress: settings.from, category: 'transactional' as const, evidence: evidenceOf(verdict.checks) };
  if (!verdict.allowed) return settleSkipped(db, base, verdict.reason, verdict.consentState);
  const { subject, text, html } = req.content;
  return sendOnce(db, mailer, { ...base, subject, textBody: text, htmlBody: html, consentState: 'not required (transactional)' }, {});
}

/** Whether the content reads `trigger.*` (the event that started the enrolment), which is then looked up. */
function readsTriggerIn(content: EmailContent): boolean {
  try {
    return [content.subject, content.text, content.html].some((part) => part !== undefined && templateRoots(part).includes('trigger'));
  } catch {
    return false; // It does not parse: rendering fails it, permanently.
  }
}

/** The checks as the ledger's `evidence` column keeps them. */
const evidenceOf = (checks: SendChecks) => checks as unknown as Record<string, unknown>;
const checksOf = (evidence: Record<string, unknown> | null | undefined) => (evidence ?? undefined) as SendChecks | undefined;

/** Settles a send the checks refused: the ledger keeps why. */
async function settleSkipped(db: Database, values: Omit<LedgerValues, 'subject' | 'textBody'>, reason: string, consentState: string): Promise<EmailResult> {
  await db.insert(outgoingEmails).values({ ...values, subject: '', textBody: '', status: 'skipped', skipReason: reason, consentState }).onConflictDoNothing();
  return { status: 'skipped', reason, consentState, checks: checksOf(values.evidence), replayed: false };
}

/** Claims the ledger row, sends and settles it (see deliverEmail); a row another attempt holds answers with its outcome. */
async function sendOnce(db: Database, mailer: Mailer, values: LedgerValues, headers: Record<string, string>): Promise<EmailResult> {
  const key = values.idempotencyKey;
  if (!(await claim(db, values))) return (await previousEmail(db, key)) ?? { status: 'unknown', reason: 'claimed_elsewhere', replayed: true };
  let providerMessageId: string;
  try {
    ({ providerMessageId } = await mailer.send({
      from: values.fromAddress, to: values.toAddress, subject: values.subject, text: values.textBody, html: values.htmlBody ?? undefined,
      messageId: messageIdFor(key, values.fromAddress), headers,
    }));
  } catch (err) {
    await setStatus(db, key, 'retry');
    throw err;
  }
  const status = mailer.mode === 'capture' ? 'captured' : 'sent';
  await db.update(outgoingEmails).set({ status, providerMessageId, sentAt: sql`now()` }).where(eq(outgoingEmails.idempotencyKey, key));
  return {
    status, providerMessageId, consentState: values.consentState ?? undefined,
    templateVersion: values.templateVersion ?? undefined, checks: checksOf(values.evidence), replayed: false,
  };
}

/** The settled outcome of an email send with this key, if any (a row in flight is settled `unknown`). */
export async function previousEmail(db: Database, key: string): Promise<EmailResult | undefined> {
  const row = await emailRowByKey(db, key);
  if (!row || row.status === 'retry') return undefined;
  if (row.status === 'sending') {
    await setStatus(db, key, 'unknown', 'sending');
    return { status: 'unknown', reason: 'interrupted_mid_send', replayed: true };
  }
  return {
    status: row.status,
    providerMessageId: row.providerMessageId ?? undefined,
    consentState: row.consentState ?? undefined,
    templateVersion: row.templateVersion ?? undefined,
    checks: checksOf(row.evidence),
    reason: row.status === 'unknown' ? 'interrupted_mid_send' : row.skipReason ?? undefined,
    replayed: true,
  };
}

type LedgerValues = Omit<typeof outgoingEmails.$inferInsert, 'status'>;

/** Inserts the ledger row, or takes over a row left in `retry`; false if another attempt holds it. */
async function claim(db: Database, values: LedgerValues): Promise<boolean> {
  const inserted = await db.insert(outgoingEmails).values({ ...values, status: 'sending' })
    .onConflictDoNothing().returning({ id: outgoingEmails.id });
  if (inserted.length) return true;
  const retaken = await db.update(outgoingEmails)
    .set({ ...values, status: 'sending', attempts: sql`${outgoingEmails.attempts} + 1` })
    .where(and(eq(outgoingEmails.idempotencyKey, values.idempotencyKey), eq(outgoingEmails.status, 'retry')))
    .returning({ id: outgoingEmails.id });
  return retaken.length > 0;
}

async function setStatus(db: Database, key: string, status: OutgoingEmailStatus, onlyFrom?: OutgoingEmailStatus) {
  const where = onlyFrom
    ? and(eq(outgoingEmails.idempotencyKey, key), eq(outgoingEmails.status, onlyFrom))
    : eq(outgoingEmails.idempotencyKey, key);
  await db.update(outgoingEmails).set({ status }).where(where);
}

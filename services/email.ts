import { createHash } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { outgoingEmails, type OutgoingEmailStatus } from '../db/schema';
import { findContact, toContact } from './contacts';
import type { Mailer } from './mailer';
import { renderTemplate } from './templates';

export interface EmailRequest {
  idempotencyKey: string;
  enrolmentId?: string;
  contactId: string;
  stepId?: string;
  from: string;
  subject: string;
  text: string;
  html?: string;
  /** Extra Liquid variables besides `contact`. */
  scope?: Record<string, unknown>;
}

export interface EmailResult {
  status: 'sent' | 'captured' | 'skipped' | 'unknown';
  reason?: string;
  to?: string;
  providerMessageId?: string;
  /** True when a previous attempt had already settled this send. */
  replayed: boolean;
}

/** Message-ID derived from the idempotency key: the same send always carries the same id. */
export function messageIdFor(idempotencyKey: string, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'nurture.local';
  return `<${createHash('sha256').update(idempotencyKey).digest('hex').slice(0, 32)}@${domain}>`;
}

/**
 * Sends one email exactly once per idempotency key. A ledger row is claimed before sending and
 * settled after; a retry finds the settled row and returns it. A clean failure marks the row
 * `retry` so the next attempt sends; an attempt that died mid-send leaves `sending`, which is
 * settled as `unknown` and never resent (a duplicate is worse than a gap, and the audit says so).
 */
export async function deliverEmail(db: Database, mailer: Mailer, req: EmailRequest): Promise<EmailResult> {
  const settled = await previousOutcome(db, req.idempotencyKey);
  if (settled) return settled;

  const contact = await findContact(db, req.contactId);
  if (!contact) return { status: 'skipped', reason: 'contact_deleted', replayed: false };
  if (!contact.email) return { status: 'skipped', reason: 'no_email_address', replayed: false };
  const scope = { ...req.scope, contact: toContact(contact) };
  const [subject, text, html] = await Promise.all([
    renderTemplate(req.subject, scope),
    renderTemplate(req.text, scope),
    req.html ? renderTemplate(req.html, scope) : undefined,
  ]);

  const claimed = await claim(db, req, { to: contact.email, subject, text, html });
  if (!claimed) return (await previousOutcome(db, req.idempotencyKey)) ?? { status: 'unknown', reason: 'claimed_elsewhere', replayed: true };

  const messageId = messageIdFor(req.idempotencyKey, req.from);
  let providerMessageId: string;
  try {
    ({ providerMessageId } = await mailer.send({ from: req.from, to: contact.email, subject, text, html, messageId }));
  } catch (err) {
    await setStatus(db, req.idempotencyKey, 'retry');
    throw err;
  }
  const status = mailer.mode === 'capture' ? 'captured' : 'sent';
  await db.update(outgoingEmails)
    .set({ status, providerMessageId, sentAt: sql`now()` })
    .where(eq(outgoingEmails.idempotencyKey, req.idempotencyKey));
  return { status, to: contact.email, providerMessageId, replayed: false };
}

async function previousOutcome(db: Database, key: string): Promise<EmailResult | undefined> {
  const [row] = await db.select().from(outgoingEmails).where(eq(outgoingEmails.idempotencyKey, key));
  if (!row || row.status === 'retry') return undefined;
  if (row.status === 'sending') {
    await setStatus(db, key, 'unknown', 'sending');
    return { status: 'unknown', reason: 'interrupted_mid_send', to: row.toAddress, replayed: true };
  }
  return {
    status: row.status,
    to: row.toAddress,
    providerMessageId: row.providerMessageId ?? undefined,
    reason: row.status === 'unknown' ? 'interrupted_mid_send' : undefined,
    replayed: true,
  };
}

/** Inserts the ledger row, or takes over a row left in `retry`; false if another attempt holds it. */
async function claim(
  db: Database,
  req: EmailRequest,
  rendered: { to: string; subject: string; text: string; html?: string },
): Promise<boolean> {
  const values = {
    idempotencyKey: req.idempotencyKey, enrolmentId: req.enrolmentId, contactId: req.contactId,
    stepId: req.stepId, toAddress: rendered.to, fromAddress: req.from, subject: rendered.subject,
    textBody: rendered.text, htmlBody: rendered.html, status: 'sending' as const,
  };
  const inserted = await db.insert(outgoingEmails).values(values).onConflictDoNothing().returning({ id: outgoingEmails.id });
  if (inserted.length) return true;
  const retaken = await db.update(outgoingEmails)
    .set({ ...values, attempts: sql`${outgoingEmails.attempts} + 1` })
    .where(and(eq(outgoingEmails.idempotencyKey, req.idempotencyKey), eq(outgoingEmails.status, 'retry')))
    .returning({ id: outgoingEmails.id });
  return retaken.length > 0;
}

async function setStatus(db: Database, key: string, status: OutgoingEmailStatus, onlyFrom?: OutgoingEmailStatus) {
  const where = onlyFrom
    ? and(eq(outgoingEmails.idempotencyKey, key), eq(outgoingEmails.status, onlyFrom))
    : eq(outgoingEmails.idempotencyKey, key);
  await db.update(outgoingEmails).set({ status }).where(where);
}

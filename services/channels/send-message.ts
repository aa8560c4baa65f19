import type { Database } from '../../db/client';
import type { ContactRow } from '../../db/schema';
import type { Channel } from '../../journey-language';
import { consentFor, suppressionOf } from '../contacts/consent';
import { findContact, toContact } from '../contacts/contacts';
import { deliverEmail, previousEmail, type EmailSettings } from '../email/delivery';
import type { EmailContent } from '../email/content';
import type { Mailer } from '../email/mailer';
import { triggerOf } from '../enrolment/trigger';
import { PermanentError } from '../lib/errors';
import { renderTemplate } from '../lib/templates';
import { deliverSms, previousSms } from './sms-delivery';
import type { SmsProvider } from './sms-provider';

export interface MessageDeps {
  db: Database;
  mailer: Mailer;
  email: EmailSettings;
  /** Absent when SMS is not configured: the SMS channel then has no way out, like a contact without a number. */
  sms?: { provider: SmsProvider; from: string };
}

export interface MessageRequest {
  idempotencyKey: string;
  enrolmentId: string;
  contactId: string;
  journeyKey: string;
  stepId: string;
  channel: Channel | 'preferred';
  fallback: Channel[];
  topic: string;
  email?: EmailContent;
  sms?: { text: string };
  /** A test run: email and SMS are captured, not sent. */
  capture?: boolean;
}

/** Why a channel was passed over. */
export type PassedOver = 'no_address' | 'no_consent' | 'suppressed' | 'not_configured' | 'no_content';

/** What the step did, as the workflow records it: the channel used and why, and what was passed over. No address or text. */
export interface MessageResult {
  status: 'sent' | 'captured' | 'skipped' | 'failed' | 'unknown';
  channel: Channel | null;
  why: string;
  passedOver: Array<{ channel: Channel; reason: PassedOver }>;
  reason?: string;
  providerMessageId?: string;
  replayed: boolean;
}

/**
 * Sends a `send_message` step on one channel: the step's (or the contact's preferred one, email
 * when none is set), else the first of its `fallback` list that has an address, consent for the
 * topic on that channel and a way out. Once per idempotency key: a retry finds the ledger row of
 * the channel chosen first (email's or SMS's) and answers with it, so the choice never changes.
 */
export async function deliverMessage(deps: MessageDeps, req: MessageRequest): Promise<MessageResult> {
  const { db } = deps;
  const replayed = await previousSend(db, req.idempotencyKey);
  if (replayed) return replayed;
  const contact = await findContact(db, req.contactId);
  if (!contact) throw new PermanentError('contact_not_found', `contact ${req.contactId} does not exist (deleted or erased)`);
  const first = req.channel === 'preferred' ? (contact.preferredChannel ?? 'email') : req.channel;
  const order = [...new Set([first, ...req.fallback])];
  const passedOver: MessageResult['passedOver'] = [];
  for (const channel of order) {
    const refusal = await refusalOf(deps, contact, channel, req);
    if (refusal) {
      passedOver.push({ channel, reason: refusal.reason });
      continue;
    }
    const why = passedOver.length === 0
      ? req.channel === 'preferred' ? (contact.preferredChannel ? 'the contact prefers it' : 'no preferred channel: email') : "the step's channel"
      : `fallback: ${passedOver.map((p) => `${p.channel} ${p.reason}`).join(', ')}`;
    const sent = channel === 'email' ? await sendEmail(deps, req) : await sendSms(deps, contact, req);
    return { ...sent, channel, why, passedOver };
  }
  return { status: 'skipped', channel: null, why: 'no channel could be used', reason: 'no_channel', passedOver, replayed: false };
}

/** Why a channel cannot carry this message to this contact, or undefined when it can. */
async function refusalOf(deps: MessageDeps, contact: ContactRow, channel: Channel, req: MessageRequest): Promise<{ reason: PassedOver } | undefined> {
  if (!req[channel]) return { reason: 'no_content' };
  if (channel === 'sms' && !deps.sms) return { reason: 'not_configured' };
  const address = channel === 'email' ? contact.email : phoneNumber(contact.phone);
  if (!address) return { reason: 'no_address' };
  if (channel === 'email' && await suppressionOf(deps.db, address)) return { reason: 'suppressed' };
  const consent = await consentFor(deps.db, contact.id, channel, req.topic, deps.email.consentMode);
  return consent.allowed ? undefined : { reason: 'no_consent' };
}

async function sendEmail(deps: MessageDeps, req: MessageRequest) {
  const result = await deliverEmail(deps.db, deps.mailer, deps.email, {
    idempotencyKey: req.idempotencyKey, enrolmentId: req.enrolmentId, contactId: req.contactId, stepId: req.stepId,
    category: 'marketing', topic: req.topic, content: req.email, scope: { journey: { key: req.journeyKey } },
  });
  return { status: result.status, reason: result.reason, providerMessageId: result.providerMessageId, replayed: result.replayed };
}

async function sendSms(deps: MessageDeps, contact: ContactRow, req: MessageRequest) {
  const consent = await consentFor(deps.db, contact.id, 'sms', req.topic, deps.email.consentMode);
  const trigger = await triggerOf(deps.db, req.enrolmentId);
  const body = await renderTemplate(req.sms!.text, { contact: toContact(contact), journey: { key: req.journeyKey }, trigger });
  const result = await deliverSms(deps.db, deps.sms!.provider, {
    idempotencyKey: req.idempotencyKey, enrolmentId: req.enrolmentId, contactId: contact.id, stepId: req.stepId,
    to: phoneNumber(contact.phone)!, from: deps.sms!.from, body, consentState: consent.state, capture: req.capture,
  });
  return { status: result.status, reason: result.reason, providerMessageId: result.providerMessageId, replayed: result.replayed };
}

/** A send this key settled already, on whichever channel it chose. */
async function previousSend(db: Database, key: string): Promise<MessageResult | undefined> {
  const sms = await previousSms(db, key);
  if (sms) return { ...sms, channel: 'sms', why: 'settled by an earlier attempt', passedOver: [] };
  const email = await previousEmail(db, key);
  if (email) return { status: email.status, reason: email.reason, providerMessageId: email.providerMessageId, replayed: true, channel: 'email', why: 'settled by an earlier attempt', passedOver: [] };
  return undefined;
}

/** The number as a provider takes it: digits with a leading +, spaces and ().- dropped; undefined when there is none. */
export function phoneNumber(phone: string | null): string | undefined {
  if (!phone) return undefined;
  const digits = phone.replace(/[^0-9]/g, '');
  return digits.length >= 3 ? `+${digits}` : undefined;
}

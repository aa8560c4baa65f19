import { createHash } from 'node:crypto';
import { appendAudit } from '../audit/records';
import { withdrawConsent } from '../contacts/consent';
import { findContact } from '../contacts/contacts';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { ingestEvent } from '../contacts/events';
import { verifyToken } from '../lib/signing';

export interface TrackingToken extends Record<string, unknown> {
  c: string;
  n?: string;
  s?: string;
  u?: string;
}

/** Records an open (once per email) as the event `email_opened`; false for a bad token. */
export async function recordOpen(deps: EnrolDeps, secret: string, token: string): Promise<boolean> {
  const t = verifyToken<TrackingToken>('open', token, secret);
  if (!t || !(await findContact(deps.db, t.c))) return false;
  await ingestEvent(deps, {
    id: `open:${t.n ?? '-'}:${t.s ?? '-'}:${t.c}`, contactId: t.c, name: 'email_opened',
    properties: { enrolmentId: t.n, stepId: t.s },
  });
  return true;
}

/** Records a click (once per email and link) as `email_clicked`; returns where to redirect. */
export async function recordClick(deps: EnrolDeps, secret: string, token: string): Promise<string | undefined> {
  const t = verifyToken<TrackingToken>('click', token, secret);
  if (!t?.u || !/^https?:\/\//.test(t.u)) return undefined;
  if (await findContact(deps.db, t.c)) {
    const link = createHash('sha256').update(t.u).digest('hex').slice(0, 16);
    await ingestEvent(deps, {
      id: `click:${t.n ?? '-'}:${t.s ?? '-'}:${t.c}:${link}`, contactId: t.c, name: 'email_clicked',
      properties: { enrolmentId: t.n, stepId: t.s, url: t.u },
    });
  }
  return t.u;
}

/**
 * One-click unsubscribe (RFC 8058): denies email consent for the token's topic at once, with an
 * audit record. Idempotent; returns the contact's address for the page, or undefined.
 */
export async function unsubscribe(deps: EnrolDeps, secret: string, token: string, via: string): Promise<{ email: string | null; topic: string } | undefined> {
  const t = verifyToken<{ c: string; t: string }>('unsubscribe', token, secret);
  if (!t) return undefined;
  const contact = await findContact(deps.db, t.c);
  if (!contact) return undefined;
  // A repeated unsubscribe (a second click, a mail client's retry) changes and records nothing.
  if (!(await withdrawConsent(deps.db, contact.id, { channel: 'email', topic: t.t, source: via }))) return { email: contact.email, topic: t.t };
  await appendAudit(deps.db, {
    actor: 'contact', action: 'consent.withdrawn', outcome: 'unsubscribed', contactId: contact.id,
    details: { channel: 'email', topic: t.t, via },
  });
  await ingestEvent(deps, { contactId: contact.id, name: 'unsubscribed', properties: { channel: 'email', topic: t.t, via } });
  return { email: contact.email, topic: t.t };
}

export function unsubscribePreview(secret: string, token: string): { contactId: string; topic: string } | undefined {
  const t = verifyToken<{ c: string; t: string }>('unsubscribe', token, secret);
  return t ? { contactId: t.c, topic: t.t } : undefined;
}

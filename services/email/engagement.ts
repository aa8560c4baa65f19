import { createHash } from 'node:crypto';
import { recordConsentChanges } from '../contacts/consent-ledger';
import { findContact } from '../contacts/contacts';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { ingestEvent } from '../contacts/events';
import { verifyToken } from '../lib/signing';
import { auditEngagement } from './engagement-audit';

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
  await auditEngagement(deps.db, 'opened', t);
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
    await auditEngagement(deps.db, 'clicked', t, link);
  }
  return t.u;
}

/** Who clicked: the evidence an unsubscribe keeps in the consent history. */
export interface UnsubscribeClient {
  /** The client's address as the API sees it (TRUST_PROXY decides whose X-Forwarded-For counts). */
  address: string;
  userAgent?: string;
  /** The RFC 8058 one-click POST (a mail client's button), rather than the page's form. */
  oneClick: boolean;
}

/**
 * One-click unsubscribe (RFC 8058): denies email consent for the token's topic at once, in the
 * consent history (with the client's address and user agent as evidence) and the audit.
 * Idempotent; returns the contact's address for the page, or undefined.
 */
export async function unsubscribe(deps: EnrolDeps, secret: string, token: string, client: UnsubscribeClient): Promise<{ email: string | null; topic: string } | undefined> {
  const t = verifyToken<{ c: string; t: string }>('unsubscribe', token, secret);
  if (!t) return undefined;
  const contact = await findContact(deps.db, t.c);
  if (!contact) return undefined;
  const source = client.oneClick ? 'one-click unsubscribe' : 'unsubscribe page';
  const evidence = { clientAddress: client.address, userAgent: client.userAgent?.slice(0, 512) ?? null, oneClick: client.oneClick };
  // A repeated unsubscribe (a second click, a mail client's retry) changes and records nothing.
  const recorded = await recordConsentChanges(deps.db, contact.id, [{ channel: 'email', topic: t.t, status: 'denied', source, madeBy: 'contact', evidence }],
    { via: 'unsubscribe', actor: 'contact' });
  if (!recorded.length) return { email: contact.email, topic: t.t };
  await ingestEvent(deps, { contactId: contact.id, name: 'unsubscribed', properties: { channel: 'email', topic: t.t, via: source } });
  return { email: contact.email, topic: t.t };
}

export function unsubscribePreview(secret: string, token: string): { contactId: string; topic: string } | undefined {
  const t = verifyToken<{ c: string; t: string }>('unsubscribe', token, secret);
  return t ? { contactId: t.c, topic: t.t } : undefined;
}

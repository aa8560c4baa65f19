import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { contacts } from '../../db/schema';
import { appendAudit, digestOf } from '../audit/records';
import { suppress } from '../contacts/consent';
import { recordConsentChanges } from '../contacts/consent-ledger';

export interface ProviderFeedback {
  type: 'bounce' | 'complaint';
  email: string;
  bounceType: 'hard' | 'soft';
  messageId?: string;
  source: string;
}

/**
 * A bounce or complaint from the email provider. A hard bounce or a complaint suppresses the
 * address (no email of any category goes to it again); a complaint is also the contact's denial
 * of all email, recorded in the consent history with the report as its evidence, so no grant
 * through the API quietly overrides it (it takes a re-consent).
 */
export async function recordProviderFeedback(db: Database, feedback: ProviderFeedback): Promise<{ suppressed: boolean }> {
  const { type, bounceType, messageId, source } = feedback;
  const email = feedback.email.trim().toLowerCase();
  const suppressed = type === 'complaint' || bounceType === 'hard';
  if (suppressed) await suppress(db, email, type === 'complaint' ? 'complaint' : 'hard_bounce', source);
  await appendAudit(db, {
    actor: 'provider', action: `email.${type}`, outcome: suppressed ? 'suppressed' : 'recorded',
    providerMessageId: messageId, details: { emailDigest: digestOf(email), bounceType: type === 'bounce' ? bounceType : null, source },
  });
  if (type === 'complaint') {
    const [contact] = await db.select({ id: contacts.id }).from(contacts).where(eq(contacts.email, email));
    if (contact) {
      await recordConsentChanges(db, contact.id, [{
        channel: 'email', topic: 'all', status: 'denied', source: `complaint (${source})`, madeBy: 'contact',
        evidence: { feedback: 'complaint', messageId: messageId ?? null, reportedBy: source },
      }], { via: 'provider_feedback', actor: 'provider' });
    }
  }
  return { suppressed };
}

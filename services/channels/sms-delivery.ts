import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { outgoingSms, type OutgoingSmsStatus } from '../../db/schema';
import type { SmsProvider } from './sms-provider';

export interface SmsRequest {
  idempotencyKey: string;
  enrolmentId?: string;
  contactId: string;
  stepId?: string;
  to: string;
  from: string;
  body: string;
  consentState: string;
  /** A test run: kept in the ledger as `captured`, never sent. */
  capture?: boolean;
}

/** What an SMS send did, as the workflow gets it: no number or text (the ledger row has them). */
export interface SmsResult {
  status: 'sent' | 'captured' | 'failed' | 'unknown';
  providerMessageId?: string;
  reason?: string;
  replayed: boolean;
}

/**
 * Sends one SMS at most once per idempotency key (workflow id + step id + visit), through a
 * ledger row claimed before the request and settled after, as email is: a refusal for good (4xx)
 * is settled `failed` with the provider's reason and never retried; a 5xx or a timeout marks the
 * row `retry` and throws, so the activity retries; an attempt that died mid-send is settled
 * `unknown` and never resent.
 */
export async function deliverSms(db: Database, provider: SmsProvider, req: SmsRequest): Promise<SmsResult> {
  const settled = await previousSms(db, req.idempotencyKey);
  if (settled) return settled;
  const values = {
    idempotencyKey: req.idempotencyKey, enrolmentId: req.enrolmentId, contactId: req.contactId, stepId: req.stepId,
    toNumber: req.to, fromNumber: req.from, body: req.body, consentState: req.consentState,
  };
  if (!(await claim(db, values))) return (await previousSms(db, req.idempotencyKey)) ?? { status: 'unknown', reason: 'claimed_elsewhere', replayed: true };
  if (req.capture) {
    await settle(db, req.idempotencyKey, { status: 'captured', sentAt: sql`now()` });
    return { status: 'captured', replayed: false };
  }
  let answer;
  try {
    answer = await provider.send({ to: req.to, body: req.body });
  } catch (err) {
    await settle(db, req.idempotencyKey, { status: 'retry' });
    throw err;
  }
  if (!answer.accepted) {
    await settle(db, req.idempotencyKey, { status: 'failed', failure: answer.failure });
    return { status: 'failed', reason: answer.failure, replayed: false };
  }
  await settle(db, req.idempotencyKey, { status: 'sent', providerMessageId: answer.providerMessageId, sentAt: sql`now()` });
  return { status: 'sent', providerMessageId: answer.providerMessageId, replayed: false };
}

/** The settled outcome of an SMS send with this key, if any (a row in flight is settled `unknown`). */
export async function previousSms(db: Database, key: string): Promise<SmsResult | undefined> {
  const [row] = await db.select().from(outgoingSms).where(eq(outgoingSms.idempotencyKey, key));
  if (!row || row.status === 'retry') return undefined;
  if (row.status === 'sending') {
    await db.update(outgoingSms).set({ status: 'unknown' }).where(and(eq(outgoingSms.idempotencyKey, key), eq(outgoingSms.status, 'sending')));
    return { status: 'unknown', reason: 'interrupted_mid_send', replayed: true };
  }
  return {
    status: row.status === 'unknown' ? 'unknown' : row.status, providerMessageId: row.providerMessageId ?? undefined,
    reason: row.status === 'unknown' ? 'interrupted_mid_send' : row.failure ?? undefined, replayed: true,
  };
}

type SmsValues = Omit<typeof outgoingSms.$inferInsert, 'status'>;

/** Inserts the ledger row, or takes over one left in `retry`; false if another attempt holds it. */
async function claim(db: Database, values: SmsValues): Promise<boolean> {
  const inserted = await db.insert(outgoingSms).values({ ...values, status: 'sending' }).onConflictDoNothing().returning({ id: outgoingSms.id });
  if (inserted.length) return true;
  const retaken = await db.update(outgoingSms).set({ ...values, status: 'sending', attempts: sql`${outgoingSms.attempts} + 1` })
    .where(and(eq(outgoingSms.idempotencyKey, values.idempotencyKey), eq(outgoingSms.status, 'retry')))
    .returning({ id: outgoingSms.id });
  return retaken.length > 0;
}

async function settle(db: Database, key: string, set: { status: OutgoingSmsStatus; providerMessageId?: string; failure?: string; sentAt?: ReturnType<typeof sql> }): Promise<void> {
  await db.update(outgoingSms).set(set).where(eq(outgoingSms.idempotencyKey, key));
}

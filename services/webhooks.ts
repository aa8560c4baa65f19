import { createHmac } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../db/client';
import { webhookDeliveries } from '../db/schema';
import { renderTemplate } from './templates';

export interface WebhookRequest {
  idempotencyKey: string;
  url: string;
  body: unknown;
  timeoutMs: number;
}

export type WebhookResult =
  | { status: 'delivered'; responseStatus: number; replayed: boolean }
  | { status: 'rejected'; responseStatus: number; replayed: boolean }
  | { status: 'unknown'; replayed: boolean };

/** A failure the caller should retry (network error, timeout, 5xx, 429). */
export class RetryableWebhookError extends Error {}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, as receivers verify it. */
export function webhookSignature(secret: string, timestamp: number, body: string): string {
  return `t=${timestamp},v1=${createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')}`;
}

/** Renders every string in a JSON body as a Liquid template. */
export async function renderJson(value: unknown, scope: Record<string, unknown>): Promise<unknown> {
  if (typeof value === 'string') return renderTemplate(value, scope);
  if (Array.isArray(value)) return Promise.all(value.map((v) => renderJson(v, scope)));
  if (value && typeof value === 'object') {
    const entries = await Promise.all(Object.entries(value).map(async ([k, v]) => [k, await renderJson(v, scope)] as const));
    return Object.fromEntries(entries);
  }
  return value;
}

/**
 * POSTs a signed webhook once per idempotency key (ledger claimed before, settled after, as for
 * email). 2xx settles it; 4xx (but 408/429) is a rejection that is not retried; anything else
 * throws RetryableWebhookError so Temporal retries with backoff. An attempt that died mid-request
 * is settled as `unknown` and not repeated. Receivers also get an Idempotency-Key header.
 */
export async function deliverWebhook(db: Database, secret: string, req: WebhookRequest): Promise<WebhookResult> {
  const [existing] = await db.select().from(webhookDeliveries).where(eq(webhookDeliveries.idempotencyKey, req.idempotencyKey));
  if (existing?.status === 'delivered' || existing?.status === 'rejected') {
    return { status: existing.status, responseStatus: existing.responseStatus ?? 0, replayed: true };
  }
  if (existing?.status === 'sending' || existing?.status === 'unknown') {
    await db.update(webhookDeliveries).set({ status: 'unknown' }).where(eq(webhookDeliveries.idempotencyKey, req.idempotencyKey));
    return { status: 'unknown', replayed: true };
  }
  const claimed = existing
    ? await db.update(webhookDeliveries).set({ status: 'sending', attempts: sql`${webhookDeliveries.attempts} + 1` })
      .where(and(eq(webhookDeliveries.idempotencyKey, req.idempotencyKey), eq(webhookDeliveries.status, 'retry'))).returning()
    : await db.insert(webhookDeliveries).values({ idempotencyKey: req.idempotencyKey, url: req.url, status: 'sending' }).onConflictDoNothing().returning();
  if (!claimed.length) return { status: 'unknown', replayed: true };

  const body = JSON.stringify(req.body);
  const timestamp = Math.floor(Date.now() / 1000);
  let response: Response;
  try {
    response = await fetch(req.url, {
      method: 'POST',
      body,
      signal: AbortSignal.timeout(req.timeoutMs),
      headers: {
        'content-type': 'application/json', 'user-agent': 'Nurture-Webhook/1',
        'idempotency-key': req.idempotencyKey, 'x-nurture-signature': webhookSignature(secret, timestamp, body),
      },
    });
    await response.arrayBuffer().catch(() => undefined);
  } catch (err) {
    await settle(db, req.idempotencyKey, 'retry', null);
    throw new RetryableWebhookError(`webhook ${req.url} failed: ${(err as Error).message}`);
  }
  if (response.ok) {
    await settle(db, req.idempotencyKey, 'delivered', response.status);
    return { status: 'delivered', responseStatus: response.status, replayed: false };
  }
  if (response.status >= 400 && response.status < 500 && response.status !== 408 && response.status !== 429) {
    await settle(db, req.idempotencyKey, 'rejected', response.status);
    return { status: 'rejected', responseStatus: response.status, replayed: false };
  }
  await settle(db, req.idempotencyKey, 'retry', response.status);
  throw new RetryableWebhookError(`webhook ${req.url} answered ${response.status}`);
}

async function settle(db: Database, key: string, status: 'delivered' | 'rejected' | 'retry', responseStatus: number | null) {
  await db.update(webhookDeliveries)
    .set({ status, responseStatus, ...(status === 'delivered' ? { deliveredAt: sql`now()` } : {}) })
    .where(eq(webhookDeliveries.idempotencyKey, key));
}

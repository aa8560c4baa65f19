import { createHmac } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { webhookDeliveries } from '../../db/schema';
import { renderTemplate } from '../lib/templates';
import { checkWebhookTarget, postWebhook, WebhookTargetRefused, type WebhookTargets } from './transport';

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

/**
 * The Standard Webhooks signature (`webhook-signature`): `v1,<base64 HMAC-SHA256 of
 * "<id>.<timestamp>.<body>">`, keyed with the bytes of WEBHOOK_SIGNING_SECRET, which receivers'
 * libraries take as standardWebhookSecret(secret).
 */
export function standardWebhookSignature(secret: string, id: string, timestamp: number, body: string): string {
  return `v1,${createHmac('sha256', secret).update(`${id}.${timestamp}.${body}`).digest('base64')}`;
}

/** The secret as Standard Webhooks libraries take it: `whsec_` + base64 of WEBHOOK_SIGNING_SECRET's UTF-8 bytes. */
export function standardWebhookSecret(secret: string): string {
  return `whsec_${Buffer.from(secret, 'utf8').toString('base64')}`;
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
 * email). 2xx settles it; a redirect (never followed) or a 4xx (but 408/429) is a rejection that is
 * not retried; anything else throws RetryableWebhookError so Temporal retries with backoff. An
 * attempt that died mid-request is settled as `unknown` and not repeated. A target inside the
 * network (see transport.ts) throws WebhookTargetRefused, a permanent failure of the step;
 * nothing was sent, so its ledger row, if claimed, goes back to `retry`. Receivers also get an
 * Idempotency-Key header, which is the Standard Webhooks `webhook-id` too.
 */
export async function deliverWebhook(db: Database, secret: string, req: WebhookRequest, targets: WebhookTargets): Promise<WebhookResult> {
  checkWebhookTarget(new URL(req.url), targets);
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
  let status: number;
  try {
    status = await postWebhook({
      url: req.url, body, timeoutMs: req.timeoutMs, targets,
      headers: {
        'content-type': 'application/json', 'user-agent': 'Nurture-Webhook/1',
        'idempotency-key': req.idempotencyKey, 'x-nurture-signature': webhookSignature(secret, timestamp, body),
        'webhook-id': req.idempotencyKey, 'webhook-timestamp': String(timestamp),
        'webhook-signature': standardWebhookSignature(secret, req.idempotencyKey, timestamp, body),
      },
    });
  } catch (err) {
    await settle(db, req.idempotencyKey, 'retry', null);
    if (err instanceof WebhookTargetRefused) throw err;
    throw new RetryableWebhookError(`webhook ${req.url} failed: ${(err as Error).message}`);
  }
  if (status >= 200 && status < 300) {
    await settle(db, req.idempotencyKey, 'delivered', status);
    return { status: 'delivered', responseStatus: status, replayed: false };
  }
  if ((status >= 300 && status < 400) || (status >= 400 && status < 500 && status !== 408 && status !== 429)) {
    await settle(db, req.idempotencyKey, 'rejected', status);
    return { status: 'rejected', responseStatus: status, replayed: false };
  }
  await settle(db, req.idempotencyKey, 'retry', status);
  throw new RetryableWebhookError(`webhook ${req.url} answered ${status}`);
}

async function settle(db: Database, key: string, status: 'delivered' | 'rejected' | 'retry', responseStatus: number | null) {
  await db.update(webhookDeliveries)
    .set({ status, responseStatus, ...(status === 'delivered' ? { deliveredAt: sql`now()` } : {}) })
    .where(eq(webhookDeliveries.idempotencyKey, key));
}

import { lookup as dnsLookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import type { LookupFunction } from 'node:net';
import { internalAddressKind, isAllowedHost, NOTIFY_TIMEOUT_MAX_MS, refusalMessage } from '../../journey-language';
import { PermanentError } from '../lib/errors';

/** What a host name resolves to, as `dns.lookup(name, { all: true })` answers. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: number }>>;

/**
 * Where webhooks may go: the internal hosts the operator allowed (WEBHOOK_ALLOWED_HOSTS, by the
 * name or address written in the URL), and how names are resolved (DNS; tests inject a resolver).
 */
export interface WebhookTargets {
  allowedHosts: readonly string[];
  resolve?: Resolver;
}

/** The most of a receiver's answer that is read; only its status matters. */
export const MAX_RESPONSE_BYTES = 64 * 1024;

/** A webhook aimed inside the network: no retry can fix it, so the step fails (code webhook_target_refused). */
export class WebhookTargetRefused extends PermanentError {
  constructor(message: string) {
    super('webhook_target_refused', message);
    this.name = 'WebhookTargetRefused';
  }
}

/** Refuses a URL whose host is written as an internal address or name (and is not allowed). */
export function checkWebhookTarget(url: URL, targets: WebhookTargets): void {
  if (isAllowedHost(url, targets.allowedHosts)) return;
  const kind = internalAddressKind(url.hostname);
  if (kind) throw new WebhookTargetRefused(refusalMessage(url.hostname, kind));
}

const systemResolver: Resolver = (hostname) => dnsLookup(hostname, { all: true, verbatim: true });

/**
 * The socket's own name lookup: resolves, refuses the host if any address it has is internal, and
 * hands the checked addresses to the connection, so what is checked is what is connected to (a
 * second resolution, as DNS rebinding relies on, never happens). Literal IP hosts skip lookup:
 * checkWebhookTarget covers them.
 */
function guardedLookup(url: URL, targets: WebhookTargets, onRefused: (refusal: WebhookTargetRefused) => void): LookupFunction {
  const allowed = isAllowedHost(url, targets.allowedHosts);
  const resolve = targets.resolve ?? systemResolver;
  return (hostname, options, callback) => {
    const answer = (found: Array<{ address: string; family: number }>) => {
      const internal = allowed ? undefined : found.find((a) => internalAddressKind(a.address));
      if (internal) {
        const refusal = new WebhookTargetRefused(refusalMessage(`${hostname} (${internal.address})`, internalAddressKind(internal.address)!));
        onRefused(refusal);
        return callback(refusal, '', 0);
      }
      const family = typeof options.family === 'number' && options.family !== 0 ? options.family : undefined;
      const usable = family ? found.filter((a) => a.family === family) : found;
      if (!usable.length) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
      if (options.all) return callback(null, usable);
      return callback(null, usable[0]!.address, usable[0]!.family);
    };
    resolve(hostname).then(answer, (err: NodeJS.ErrnoException) => callback(err, '', 0));
  };
}

export interface WebhookPost {
  url: string;
  body: string;
  headers: Record<string, string>;
  timeoutMs: number;
  targets: WebhookTargets;
}

/**
 * POSTs once and answers the receiver's status. Redirects are not followed (the status is
 * returned as it is); at most MAX_RESPONSE_BYTES of the answer are read, then the connection is
 * closed; the whole exchange gets at most the step's timeout, capped at NOTIFY_TIMEOUT_MAX_MS so
 * it ends well inside the activity's. Each post has its own connection (no pooled socket carries
 * over a target checked for another request). Throws WebhookTargetRefused for an internal target,
 * any other error for a failure worth retrying.
 */
export async function postWebhook(post: WebhookPost): Promise<number> {
  return (await postGuarded(post)).status;
}

/**
 * postWebhook's exchange, answering the status and the first MAX_RESPONSE_BYTES of the body (an
 * SMS provider's answer names the message it created). The same target rules apply.
 */
export function postGuarded(post: WebhookPost): Promise<{ status: number; body: string }> {
  const url = new URL(post.url);
  checkWebhookTarget(url, post.targets);
  let refusal: WebhookTargetRefused | undefined;
  const timeoutMs = Math.min(post.timeoutMs, NOTIFY_TIMEOUT_MAX_MS);
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    let status: number | undefined;
    const chunks: Buffer[] = [];
    const finish = () => {
      clearTimeout(timer);
      request.destroy();
      if (status === undefined) reject(new Error('the receiver closed the connection without an answer'));
      else resolve({ status, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_RESPONSE_BYTES) });
    };
    const fail = (err: Error) => {
      clearTimeout(timer);
      reject(refusal ?? err);
    };
    const request = (url.protocol === 'https:' ? https : http).request(url, {
      method: 'POST', agent: false, lookup: guardedLookup(url, post.targets, (r) => { refusal = r; }),
      headers: { ...post.headers, 'content-length': String(Buffer.byteLength(post.body)) },
    }, (response) => {
      status = response.statusCode ?? 0;
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        chunks.push(chunk);
        if (read >= MAX_RESPONSE_BYTES) finish();
      });
      response.on('end', finish);
      response.on('error', finish);
    });
    // Past the timeout an answered request still counts (its status is known), an unanswered one fails.
    const timer = setTimeout(() => (status === undefined ? request.destroy(new Error(`no answer within ${timeoutMs} ms`)) : finish()), timeoutMs);
    request.on('error', fail);
    request.end(post.body);
  });
}

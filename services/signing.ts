import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Compact signed tokens for links in emails (unsubscribe, tracking): base64url JSON payload and
 * an HMAC-SHA256 over it. Optional expiry `exp` (epoch seconds) is checked on verify.
 */
export function signToken(payload: Record<string, unknown>, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${mac(body, secret)}`;
}

export function verifyToken<T extends Record<string, unknown>>(token: string, secret: string): T | undefined {
  const read = readToken<T>(token, secret);
  return read.ok ? read.payload : undefined;
}

/** Like verifyToken, but says why a token is refused: a bad signature or a passed `exp`. */
export function readToken<T extends Record<string, unknown>>(token: string, secret: string):
  { ok: true; payload: T } | { ok: false; reason: 'invalid' | 'expired' } {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  const expected = Buffer.from(mac(body, secret));
  const given = Buffer.from(signature);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return { ok: false, reason: 'invalid' };
  try {
    const payload = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T & { exp?: number };
    if (typeof payload.exp === 'number' && payload.exp * 1000 < Date.now()) return { ok: false, reason: 'expired' };
    return { ok: true, payload };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
}

function mac(body: string, secret: string): string {
  return createHmac('sha256', secret).update(body).digest('base64url');
}

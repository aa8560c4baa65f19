import { createHash, createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';

/**
 * Signed tokens for links in emails and pages. Each purpose has its own key, derived from the
 * signing secret with HKDF-SHA256, and the payload carries its purpose (`p`) and the id of the
 * secret that signed it (`k`): a token minted for one purpose (an open pixel) never passes as
 * another (an unsubscribe), even though both come from the same secret.
 *
 * `SIGNING_SECRET` may list several secrets, comma-separated: the first signs, all verify, so a
 * secret is rotated by putting the new one first and dropping the old one once its links are
 * no longer needed. Format: `<base64url JSON payload>.<base64url HMAC-SHA256 of it>`.
 */
export type TokenPurpose = 'unsubscribe' | 'open' | 'click' | 'task-link';

/** Keys that are not tokens but need the same derivation (e.g. the task form's CSRF tokens). */
export type KeyPurpose = TokenPurpose | 'csrf';

export type TokenCheck<T> = { ok: true; payload: T } | { ok: false; reason: 'invalid' | 'expired' };

interface Secret {
  kid: string;
  raw: string;
  keys: Map<KeyPurpose, Buffer>;
}

const parsed = new Map<string, Secret[]>();

/** The secrets in a `SIGNING_SECRET` value, first (signing) one first; parsed once. */
function secretsOf(value: string): Secret[] {
  let secrets = parsed.get(value);
  if (!secrets) {
    secrets = value.split(',').map((raw) => raw.trim()).filter(Boolean).map((raw) => ({
      raw, keys: new Map(), kid: createHash('sha256').update(`nurture-key-id:${raw}`).digest('base64url').slice(0, 8),
    }));
    if (secrets.length === 0) throw new Error('no signing secret');
    parsed.set(value, secrets);
  }
  return secrets;
}

function keyOf(secret: Secret, purpose: KeyPurpose): Buffer {
  let key = secret.keys.get(purpose);
  if (!key) {
    key = Buffer.from(hkdfSync('sha256', secret.raw, 'nurture-signing-v1', `nurture:${purpose}`, 32));
    secret.keys.set(purpose, key);
  }
  return key;
}

/** The current (first) secret's key for a purpose: for MACs that are not tokens, such as CSRF. */
export function purposeKey(purpose: KeyPurpose, secrets: string): Buffer {
  return keyOf(secretsOf(secrets)[0]!, purpose);
}

/** Signs a payload for one purpose with the first secret; `exp` (epoch seconds) makes it expire. */
export function signToken(purpose: TokenPurpose, payload: Record<string, unknown>, secrets: string): string {
  const secret = secretsOf(secrets)[0]!;
  const body = Buffer.from(JSON.stringify({ ...payload, p: purpose, k: secret.kid })).toString('base64url');
  return `${body}.${mac(keyOf(secret, purpose), body)}`;
}

/**
 * Verifies a token for the purpose the caller expects, with whichever listed secret signed it,
 * and says why a token is refused: `invalid` (forged, altered, another purpose, an unknown
 * secret) or `expired` (past its `exp`). The payload is returned without `p` and `k`.
 */
export function readToken<T extends Record<string, unknown>>(purpose: TokenPurpose, token: string, secrets: string): TokenCheck<T> {
  const [body, signature, extra] = token.split('.');
  if (!body || !signature || extra !== undefined) return { ok: false, reason: 'invalid' };
  let claims: Record<string, unknown>;
  try {
    claims = JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as Record<string, unknown>;
    if (claims === null || typeof claims !== 'object' || Array.isArray(claims)) return { ok: false, reason: 'invalid' };
  } catch {
    return { ok: false, reason: 'invalid' };
  }
  const known = secretsOf(secrets);
  const verified = typeof claims.k === 'string'
    ? claims.p === purpose && known.some((s) => s.kid === claims.k && equal(mac(keyOf(s, purpose), body), signature))
    : legacyShape[purpose](claims) && known.some((s) => equal(mac(Buffer.from(s.raw), body), signature));
  if (!verified) return { ok: false, reason: 'invalid' };
  if (typeof claims.exp === 'number' && claims.exp * 1000 < Date.now()) return { ok: false, reason: 'expired' };
  const { p: _p, k: _k, ...payload } = claims;
  return { ok: true, payload: payload as T };
}

/** readToken's payload, or undefined for any refusal. */
export function verifyToken<T extends Record<string, unknown>>(purpose: TokenPurpose, token: string, secrets: string): T | undefined {
  const read = readToken<T>(purpose, token, secrets);
  return read.ok ? read.payload : undefined;
}

/**
 * Tokens minted before purposes existed (no `k`, MAC with the raw secret) sit in emails already
 * delivered. They are still accepted, but only in the exact shape their purpose had, and the
 * shapes differ from one another, so one cannot pass as another (an open pixel's token lacks the
 * unsubscribe token's topic, and has a step the unsubscribe token lacks).
 */
const legacyShape: Record<TokenPurpose, (c: Record<string, unknown>) => boolean> = {
  unsubscribe: (c) => hasExactly(c, ['c', 't']),
  open: (c) => hasExactly(c, ['c', 'n', 's']),
  click: (c) => hasExactly(c, ['c', 'n', 's', 'u']),
  'task-link': (c) => hasExactly(c, ['exp', 'l', 't']),
};

function hasExactly(claims: Record<string, unknown>, keys: string[]): boolean {
  const own = Object.keys(claims).sort();
  return own.length === keys.length && own.every((k, i) => k === keys[i] && claims[k] !== undefined);
}

function mac(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('base64url');
}

function equal(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

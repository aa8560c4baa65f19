import { createHmac } from 'node:crypto';
import { purposeKey, readToken, signToken, verifyToken } from '../../services/lib/signing';

const A = 'a'.repeat(32);
const B = 'b'.repeat(32);

/** Hand-made tokens of the format before purposes existed (HMAC with the raw secret). */
function legacy(payload: Record<string, unknown>, secret: string): string {
  const body = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${body}.${createHmac('sha256', secret).update(body).digest('base64url')}`;
}

describe('signed tokens', () => {
  it('a token verifies for its own purpose only', () => {
    const open = signToken('open', { c: 'contact', n: 'enrolment', s: 'step' }, A);
    expect(verifyToken('open', open, A)).toEqual({ c: 'contact', n: 'enrolment', s: 'step' });
    for (const other of ['unsubscribe', 'click', 'task-link'] as const) expect(readToken(other, open, A)).toEqual({ ok: false, reason: 'invalid' });
  });

  it('a purpose claim swapped into the payload does not verify (the key is per purpose)', () => {
    const open = signToken('open', { c: 'contact', t: 'marketing' }, A);
    const [body, mac] = open.split('.');
    const claims = JSON.parse(Buffer.from(body!, 'base64url').toString());
    const swapped = Buffer.from(JSON.stringify({ ...claims, p: 'unsubscribe' })).toString('base64url');
    expect(readToken('unsubscribe', `${swapped}.${mac}`, A).ok).toBe(false);
  });

  it('forged, altered or foreign-secret tokens are refused', () => {
    const token = signToken('unsubscribe', { c: 'contact', t: 'marketing' }, A);
    expect(readToken('unsubscribe', token, B).ok).toBe(false);
    expect(readToken('unsubscribe', `${token}x`, A).ok).toBe(false);
    expect(readToken('unsubscribe', 'forged.token', A).ok).toBe(false);
    expect(readToken('unsubscribe', 'bm90IGpzb24.abc', A).ok).toBe(false);
    expect(readToken('unsubscribe', `${Buffer.from('null').toString('base64url')}.x`, A).ok).toBe(false);
  });

  it('rotation: the first secret signs, every listed secret verifies', () => {
    const old = signToken('click', { c: 'x', u: 'https://example.test' }, A);
    expect(verifyToken('click', old, `${B},${A}`)).toMatchObject({ u: 'https://example.test' });
    const fresh = signToken('click', { c: 'x', u: 'https://example.test' }, `${B},${A}`);
    expect(verifyToken('click', fresh, B)).toBeDefined();
    expect(verifyToken('click', fresh, A)).toBeUndefined();
    expect(purposeKey('csrf', `${B},${A}`)).toEqual(purposeKey('csrf', B));
    expect(purposeKey('csrf', B)).not.toEqual(purposeKey('task-link', B));
  });

  it('expired tokens are refused as expired', () => {
    const token = signToken('open', { c: 'x', exp: Math.floor(Date.now() / 1000) - 1 }, A);
    expect(readToken('open', token, A)).toEqual({ ok: false, reason: 'expired' });
  });

  it('tokens from before purposes still work for their own purpose, by their exact shape only', () => {
    const unsubscribe = legacy({ c: 'contact', t: 'marketing' }, A);
    const open = legacy({ c: 'contact', n: 'enrolment', s: 'step' }, A);
    expect(verifyToken('unsubscribe', unsubscribe, A)).toEqual({ c: 'contact', t: 'marketing' });
    expect(verifyToken('open', open, A)).toEqual({ c: 'contact', n: 'enrolment', s: 'step' });
    expect(verifyToken('unsubscribe', open, A)).toBeUndefined();
    expect(verifyToken('open', unsubscribe, A)).toBeUndefined();
    expect(verifyToken('unsubscribe', legacy({ c: 'contact', t: 'marketing', extra: 1 }, A), A)).toBeUndefined();
  });
});

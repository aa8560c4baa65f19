import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Whether a request may read /metrics: always without METRICS_TOKEN, else only with
 * `Authorization: Bearer <token>` (compared in constant time, as digests of equal length).
 */
export function metricsAllowed(authorization: string | undefined, token: string | undefined): boolean {
  if (!token) return true;
  const given = /^Bearer\s+(\S+)$/i.exec(authorization ?? '')?.[1] ?? '';
  const digest = (text: string) => createHash('sha256').update(text).digest();
  return timingSafeEqual(digest(given), digest(token));
}

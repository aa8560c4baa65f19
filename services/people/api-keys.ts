import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { apiKeys, type ApiKeyRow, type ApiScope } from '../../db/schema';
import { invalid, notFound } from '../lib/errors';
import { getUser } from './users';

/** Who a request comes from: its API key, the key's scopes, and the user an approver key is bound to. */
export interface Caller {
  keyId: string;
  scopes: ApiScope[];
  user?: { id: string; email: string; roles: string[] };
}

const hashOf = (secret: string) => createHash('sha256').update(secret).digest('hex');

/**
 * Creates an API key: `nrt_<prefix>_<secret>`, returned once; only its SHA-256 is stored (the key
 * is 192 random bits, so a fast hash is the right tool). Approver keys are bound to a user.
 */
export async function createApiKey(
  db: Database, input: { name: string; scopes: ApiScope[]; userId?: string },
): Promise<{ key: string; row: ApiKeyRow }> {
  if (input.scopes.includes('approver') && !input.userId) {
    throw invalid('invalid_api_key', 'An approver key is bound to a user', [{ path: 'body.userId', message: 'required with the approver scope' }]);
  }
  if (input.userId) await getUser(db, input.userId);
  const prefix = randomBytes(6).toString('hex');
  const secret = randomBytes(24).toString('base64url');
  const key = `nrt_${prefix}_${secret}`;
  const [row] = await db.insert(apiKeys)
    .values({ name: input.name, prefix, hash: hashOf(key), scopes: [...new Set(input.scopes)], userId: input.userId }).returning();
  return { key, row: row! };
}

export async function revokeApiKey(db: Database, id: string): Promise<ApiKeyRow> {
  for (const [k, v] of authCache) if (v.caller.keyId === id) authCache.delete(k);
  const [row] = await db.update(apiKeys).set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, now())` }).where(eq(apiKeys.id, id)).returning();
  if (!row) throw notFound('api_key', 'id', id);
  return row;
}

/** Keys in creation order after the key `after` (limit + 1 rows: the caller sees whether more follow). */
export async function listApiKeys(db: Database, page: { limit: number; after?: string }): Promise<ApiKeyRow[]> {
  const after = page.after === undefined ? undefined
    : sql`(${apiKeys.createdAt}, ${apiKeys.id}) > (select k.created_at, k.id from ${apiKeys} k where k.id = ${page.after})`;
  return db.select().from(apiKeys).where(after).orderBy(apiKeys.createdAt, apiKeys.id).limit(page.limit + 1);
}

/**
 * Recently authenticated keys, for a few seconds: a key revoked through this process is dropped at
 * once; another process notices within AUTH_CACHE_MS.
 */
const AUTH_CACHE_MS = 5_000;
const authCache = new Map<string, { caller: Caller; until: number }>();
const lastUsedWritten = new Map<string, number>();

/** The caller a bearer key stands for, or undefined for an unknown, malformed or revoked key. */
export async function authenticate(db: Database, key: string): Promise<Caller | undefined> {
  const match = /^nrt_([0-9a-f]{12})_[A-Za-z0-9_-]{32}$/.exec(key);
  if (!match) return undefined;
  const cacheKey = hashOf(key);
  const cached = authCache.get(cacheKey);
  if (cached && cached.until > Date.now()) return cached.caller;
  const caller = await lookUp(db, key, match[1]!);
  if (caller) {
    if (authCache.size > 10_000) authCache.clear();
    authCache.set(cacheKey, { caller, until: Date.now() + AUTH_CACHE_MS });
  }
  return caller;
}

async function lookUp(db: Database, key: string, prefix: string): Promise<Caller | undefined> {
  const [row] = await db.select().from(apiKeys).where(and(eq(apiKeys.prefix, prefix), isNull(apiKeys.revokedAt)));
  if (!row) return undefined;
  const given = Buffer.from(hashOf(key));
  if (!timingSafeEqual(given, Buffer.from(row.hash))) return undefined;
  // last_used_at is written at most once a minute per key.
  if ((lastUsedWritten.get(row.id) ?? 0) < Date.now() - 60_000) {
    lastUsedWritten.set(row.id, Date.now());
    void db.update(apiKeys).set({ lastUsedAt: sql`now()` }).where(eq(apiKeys.id, row.id)).catch(() => undefined);
  }
  const user = row.userId ? await getUser(db, row.userId) : undefined;
  return { keyId: row.id, scopes: row.scopes, user: user && { id: user.id, email: user.email, roles: user.roles } };
}

import { eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { users, type UserRow } from '../../db/schema';
import { conflict, notFound } from '../lib/errors';

export async function createUser(db: Database, input: { email: string; name: string; roles: string[] }): Promise<UserRow> {
  const [row] = await db.insert(users).values({ email: input.email.toLowerCase(), name: input.name, roles: [...new Set(input.roles)] })
    .onConflictDoNothing().returning();
  if (!row) throw conflict('user_exists', `A user with email "${input.email}" exists already`, { field: 'email' });
  return row;
}

export async function getUser(db: Database, id: string): Promise<UserRow> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound('user', 'id', id);
  return row;
}

export async function findUserByEmail(db: Database, email: string): Promise<UserRow | undefined> {
  const [row] = await db.select().from(users).where(eq(users.email, email.toLowerCase()));
  return row;
}

export async function usersInRole(db: Database, role: string): Promise<UserRow[]> {
  return db.select().from(users).where(sql`${role} = any(${users.roles})`);
}

/**
 * Why a principal (an approval's assignee or escalation target) cannot decide anything: no user
 * with that email, or nobody with that role; undefined when someone can.
 */
export async function missingPrincipal(db: Database, principal: { user: string } | { role: string }): Promise<string | undefined> {
  if ('user' in principal) return (await findUserByEmail(db, principal.user)) ? undefined : `no user has the email "${principal.user}"`;
  return (await usersInRole(db, principal.role)).length ? undefined : `no user has the role "${principal.role}"`;
}

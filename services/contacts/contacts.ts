import { and, asc, eq, gt, ilike, isNull, or, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import {
  CONTACT_FIELDS, contactRowById, contactRowWithConsents, UPSERT_REPLACED, upsertContactRow,
  type ConsentView, type ContactUpsertFields, type ContactUpsertGiven,
} from '../../db/queries/contacts';
import { contacts, type ContactRow } from '../../db/schema';
import type { Contact, ContactPatch, ContactUpsert } from './schemas';
import { grantsToCheck, recordConsentChanges, refuseOverridingGrants, type ConsentOrigin } from './consent-ledger';
import { conflict, DomainError, notFound } from '../lib/errors';

export function toContact(row: ContactRow): Contact {
  return {
    id: row.id,
    email: row.email,
    externalId: row.externalId,
    firstName: row.firstName,
    lastName: row.lastName,
    company: row.company,
    title: row.title,
    phone: row.phone,
    preferredChannel: row.preferredChannel,
    locale: row.locale,
    timezone: row.timezone,
    owner: row.owner,
    lifecycleStage: row.lifecycleStage,
    attributes: row.attributes,
    tags: row.tags,
    score: row.score,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const normaliseEmail = (email: string | null | undefined) => email?.trim().toLowerCase() ?? email;

/** 410: the contact was erased; its id is never read, changed, enrolled or sent to again. */
export const contactErased = (id: string, erasedAt: Date) =>
  new DomainError(410, 'contact_erased', `Contact "${id}" was erased at ${erasedAt.toISOString()}`, { field: 'id', erasedAt: erasedAt.toISOString() });

/** A live contact: 404 when there is none with this id, 410 when it was erased. */
export async function getContact(db: Database, id: string): Promise<ContactRow> {
  const row = await contactRowById(db, id);
  if (!row) throw notFound('contact', 'id', id);
  if (row.erasedAt) throw contactErased(id, row.erasedAt);
  return row;
}

/** A contact with its consents, in one query (the API's read route); 404 or 410 as getContact. */
export async function getContactWithConsents(db: Database, id: string): Promise<ContactRow & { consents: ConsentView[] }> {
  const row = await contactRowWithConsents(db, id);
  if (!row) throw notFound('contact', 'id', id);
  if (row.erasedAt) throw contactErased(id, row.erasedAt);
  return row;
}

/** A live contact, if any: an erased one's tombstone counts as none (its steps fail as for a missing contact). */
export async function findContact(db: Database, id: string): Promise<ContactRow | undefined> {
  const row = await contactRowById(db, id);
  return row?.erasedAt ? undefined : row;
}

/** The contact an upsert would update, if any (by externalId, else email). */
export async function findExisting(db: Database, input: ContactUpsert): Promise<ContactRow | undefined> {
  const where = input.externalId !== undefined
    ? eq(contacts.externalId, input.externalId)
    : eq(contacts.email, normaliseEmail(input.email)!);
  const [row] = await db.select().from(contacts).where(where);
  return row;
}

/** Consents that arrive with inline contacts (enrolments, events) come in as an import. */
const IMPORTED: ConsentOrigin = { via: 'import', actor: 'api' };

/**
 * Inserts or updates a contact, matched by externalId, else by email. Given fields overwrite,
 * attributes merge shallowly and tags are added. Atomic under concurrency (ON CONFLICT). Its
 * consents go to the consent ledger as coming from `origin`; a grant the ledger refuses (it
 * would override the contact's own denial without a re-consent) refuses the whole upsert (409)
 * before anything is changed.
 */
export async function upsertContact(db: Database, input: ContactUpsert, origin: ConsentOrigin = IMPORTED): Promise<{ contact: ContactRow; created: boolean }> {
  const consents = input.consents ?? [];
  if (grantsToCheck(consents)) {
    const existing = await findExisting(db, input);
    if (existing) await refuseOverridingGrants(db, existing.id, consents, origin);
  }
  const email = normaliseEmail(input.email);
  const byExternal = input.externalId !== undefined;
  if (byExternal && email) {
    const [owner] = await db.select({ id: contacts.id, externalId: contacts.externalId })
      .from(contacts).where(eq(contacts.email, email));
    if (owner && owner.externalId !== null && owner.externalId !== input.externalId) {
      throw conflict('contact_email_taken', `The email "${email}" belongs to another contact`, { field: 'email', contactId: owner.id });
    }
  }
  const fields = {
    email: email ?? null, externalId: input.externalId ?? null, attributes: input.attributes ?? {}, tags: dedupe(input.tags ?? []),
    score: input.score ?? null,
  } as ContactUpsertFields;
  for (const key of CONTACT_FIELDS) (fields as Record<string, unknown>)[key] = input[key] ?? null;
  // Fields left out keep what the contact has; given ones (null too) replace it.
  const given = Object.fromEntries(UPSERT_REPLACED.map((key) => [key, (key === 'email' ? email : input[key]) !== undefined])) as ContactUpsertGiven;
  try {
    const row = await upsertContactRow(db, byExternal ? 'externalId' : 'email', fields, given);
    // Consents live in their own table: the contact row returned above stays current.
    const { inserted, ...contact } = row;
    await recordConsentChanges(db, contact.id, consents, origin);
    return { contact, created: Boolean(inserted) };
  } catch (err) {
    throw uniqueViolation(err, email) ?? err;
  }
}

/**
 * PATCH semantics: absent leaves, null clears, attributes merge with null removing a key. Consents
 * as in `upsertContact`: recorded in the ledger after the change, and a refused grant refuses the
 * whole patch before anything is changed.
 */
export async function patchContact(db: Database, id: string, patch: ContactPatch, origin: ConsentOrigin = IMPORTED): Promise<ContactRow> {
  await getContact(db, id);
  await refuseOverridingGrants(db, id, patch.consents ?? [], origin);
  const set: Record<string, unknown> = { updatedAt: sql`now()` };
  if (patch.email !== undefined) set.email = normaliseEmail(patch.email);
  for (const key of ['externalId', ...CONTACT_FIELDS, 'score'] as const) {
    if (patch[key] !== undefined) set[key] = patch[key];
  }
  if (patch.scoreDelta !== undefined) set.score = sql`${contacts.score} + ${patch.scoreDelta}`;
  if (patch.attributes) set.attributes = mergeAttributes(patch.attributes);
  const tags = tagExpression(patch.tags, patch.addTags, patch.removeTags);
  if (tags) set.tags = tags;
  try {
    const [row] = await db.update(contacts).set(set).where(eq(contacts.id, id)).returning();
    await recordConsentChanges(db, id, patch.consents ?? [], origin);
    return row!;
  } catch (err) {
    throw uniqueViolation(err, typeof set.email === 'string' ? set.email : undefined) ?? err;
  }
}

/** JSON merge patch of the attributes column: null removes a key. */
function mergeAttributes(attributes: Record<string, unknown>): SQL {
  const removed = Object.entries(attributes).filter(([, v]) => v === null).map(([k]) => k);
  const kept = Object.fromEntries(Object.entries(attributes).filter(([, v]) => v !== null));
  return sql`(${contacts.attributes} || ${JSON.stringify(kept)}::jsonb) - ${textArray(removed)}`;
}

/** A text[] parameter (drizzle would expand a JS array into a list). */
function textArray(values: string[]): SQL {
  return sql`array(select jsonb_array_elements_text(${JSON.stringify(values)}::jsonb))::text[]`;
}

export function tagExpression(replace?: string[], add?: string[], remove?: string[]): SQL | undefined {
  if (!replace && !add?.length && !remove?.length) return undefined;
  const base = replace ? textArray(dedupe(replace)) : sql`${contacts.tags}`;
  return sql`array(select distinct t from unnest(${base} || ${textArray(dedupe(add ?? []))}) as t
    where t <> all(${textArray(dedupe(remove ?? []))}) order by 1)`;
}

function dedupe(tags: string[]): string[] {
  return [...new Set(tags)];
}

function uniqueViolation(err: unknown, email?: string | null) {
  const e = (err as { cause?: { code?: string; constraint?: string } }).cause ?? (err as { code?: string; constraint?: string });
  if (e?.code !== '23505') return undefined;
  if (e.constraint === 'contacts_email_key') {
    return conflict('contact_email_taken', `The email "${email}" belongs to another contact`, { field: 'email' });
  }
  return conflict('contact_external_id_taken', 'The externalId belongs to another contact', { field: 'externalId' });
}

export interface ContactFilters {
  email?: string;
  externalId?: string;
  tag?: string;
  lifecycleStage?: string;
  owner?: string;
  /** Case-insensitive search over email, names and company. */
  q?: string;
  limit: number;
  /** Cursor: the last id of the previous page. */
  after?: string;
}

/** A page of contacts ordered by id, with the cursor of the next page. */
export async function listContacts(db: Database, f: ContactFilters): Promise<{ contacts: ContactRow[]; nextCursor: string | null }> {
  const conditions = [
    f.email ? eq(contacts.email, normaliseEmail(f.email)!) : undefined,
    f.externalId ? eq(contacts.externalId, f.externalId) : undefined,
    f.tag ? sql`${f.tag} = any(${contacts.tags})` : undefined,
    f.lifecycleStage ? eq(contacts.lifecycleStage, f.lifecycleStage) : undefined,
    f.owner ? eq(contacts.owner, f.owner) : undefined,
    f.q ? or(...[contacts.email, contacts.firstName, contacts.lastName, contacts.company].map((c) => ilike(c, `%${escapeLike(f.q!)}%`))) : undefined,
    f.after ? gt(contacts.id, f.after) : undefined,
    eq(contacts.test, false),
    isNull(contacts.erasedAt),
  ].filter((c) => c !== undefined);
  const rows = await db.select().from(contacts).where(and(...conditions)).orderBy(asc(contacts.id)).limit(f.limit + 1);
  const page = rows.slice(0, f.limit);
  return { contacts: page, nextCursor: rows.length > f.limit ? page[page.length - 1]!.id : null };
}

function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}

import { and, eq, getTableColumns, or, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { contactConsents, contacts, suppressions, type ContactRow } from '../schema';
import { columnNames, compiledStatement, fieldsAs, preparedQuery, runStatement } from '../statements';

const contactById = preparedQuery('nurture_contact_by_id', (db) => db.select().from(contacts).where(eq(contacts.id, sql.placeholder('id'))));

/** The contact with this id, if any. */
export async function contactRowById(db: Database, id: string): Promise<ContactRow | undefined> {
  const [row] = await contactById(db).execute({ id });
  return row;
}

export interface ConsentView { channel: string; topic: string; status: string; source: string; at: string; historyId: number | null }

const contactWithConsents = preparedQuery('nurture_contact_with_consents', (db) => db.select({
  ...getTableColumns(contacts),
  consents: sql<ConsentView[]>`coalesce((
    select json_agg(json_build_object('channel', c.channel, 'topic', c.topic, 'status', c.status, 'source', c.source,
      'at', to_char(c.at at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), 'historyId', c.history_id) order by c.channel, c.topic)
    from ${contactConsents} c where c.contact_id = ${contacts.id}), '[]'::json)`,
}).from(contacts).where(eq(contacts.id, sql.placeholder('id'))));

/** The contact with this id and its consents, in one query, if there is one. */
export async function contactRowWithConsents(db: Database, id: string): Promise<(ContactRow & { consents: ConsentView[] }) | undefined> {
  const [row] = await contactWithConsents(db).execute({ id });
  return row;
}

const contactsFoundStatement = compiledStatement<{ ids: string[] }>('nurture_contacts_found', (param) =>
  sql`select ${contacts.id} as id, ${contacts.erasedAt} as erased_at from ${contacts} where ${contacts.id} = any(${param('ids')}::uuid[])`);

/** Which of these contact ids exist, in one query, each with when it was erased (null: live). */
export async function existingContactIds(db: Database, ids: string[]): Promise<Array<{ id: string; erasedAt: Date | null }>> {
  const rows = await runStatement<{ id: string; erased_at: Date | string | null }, { ids: string[] }>(db, contactsFoundStatement, { ids });
  return rows.map((r) => ({ id: r.id, erasedAt: r.erased_at === null ? null : new Date(r.erased_at) }));
}

/** Plain fields that an upsert or a patch sets as given. */
export const CONTACT_FIELDS = ['firstName', 'lastName', 'company', 'title', 'phone', 'preferredChannel', 'locale', 'timezone', 'owner', 'lifecycleStage'] as const;

/** The fields an upsert replaces on an existing contact when given. */
export const UPSERT_REPLACED = ['email', ...CONTACT_FIELDS, 'score'] as const;

const INSERTED = ['email', 'externalId', ...CONTACT_FIELDS, 'attributes', 'tags', 'score'] as const;

/** A new contact's fields as the upsert inserts them; a null lifecycle stage or score takes the column's default. */
export type ContactUpsertFields = { [K in (typeof INSERTED)[number]]: ContactRow[K] | null };

/** For each field an upsert may replace, whether the upsert gives it (given fields, null too, replace the contact's). */
export type ContactUpsertGiven = Record<(typeof UPSERT_REPLACED)[number], boolean>;

type UpsertValues = Record<string, unknown>;

const contactColumns = getTableColumns(contacts);

/**
 * The upsert, compiled once per key (email or external id): inserts the contact, or merges into
 * the one with that key: attributes merged, tags added, given fields replaced, others kept.
 */
function upsertStatement(name: string, target: 'email' | 'externalId') {
  return compiledStatement<UpsertValues>(name, (param) => {
    const inserted = INSERTED.map((f) => {
      const value = sql`${param(f, contactColumns[f])}::${sql.raw(contactColumns[f].getSQLType())}`;
      return f === 'lifecycleStage' || f === 'score' ? sql`coalesce(${value}, ${contactColumns[f].default as string | number})` : value;
    });
    const replaced = UPSERT_REPLACED.map((f) => {
      const column = sql.identifier(contactColumns[f].name);
      return sql`${column} = case when ${param(`set.${f}`)}::boolean then excluded.${column} else ${contacts}.${column} end`;
    });
    return sql`
      insert into ${contacts} (${columnNames(contactColumns, INSERTED)}) values (${sql.join(inserted, sql`, `)})
      on conflict (${sql.identifier(contactColumns[target].name)}) do update set
        updated_at = now(),
        attributes = ${contacts.attributes} || excluded.attributes,
        tags = array(select distinct unnest(${contacts.tags} || excluded.tags) order by 1),
        ${sql.join(replaced, sql`, `)}
      returning ${fieldsAs(contactColumns)}, (xmax = 0) as inserted`;
  });
}

const upsertByEmail = upsertStatement('nurture_upsert_contact_by_email', 'email');
const upsertByExternalId = upsertStatement('nurture_upsert_contact_by_external_id', 'externalId');

/**
 * Inserts the contact, or merges it into the one with the same email or external id (`match`):
 * attributes merged, tags added, given fields replaced, others kept. `inserted`: whether it was new.
 */
export async function upsertContactRow(
  db: Database, match: 'email' | 'externalId', fields: ContactUpsertFields, given: ContactUpsertGiven,
): Promise<ContactRow & { inserted: boolean }> {
  const values: UpsertValues = { ...fields };
  for (const key of UPSERT_REPLACED) values[`set.${key}`] = given[key];
  const [row] = await runStatement<ContactRow & { inserted: boolean }, UpsertValues>(db, match === 'externalId' ? upsertByExternalId : upsertByEmail, values);
  return row!;
}

const consentsOn = preparedQuery('nurture_consents_on_channel', (db) => db.select().from(contactConsents)
  .where(and(eq(contactConsents.contactId, sql.placeholder('contactId')), eq(contactConsents.channel, sql.placeholder('channel')))));

/** A contact's consents on one channel, every topic. */
export async function consentsOnChannel(db: Database, contactId: string, channel: string): Promise<Array<typeof contactConsents.$inferSelect>> {
  return consentsOn(db).execute({ contactId, channel });
}

const suppressionByEmail = preparedQuery('nurture_suppression_by_email', (db) => db.select().from(suppressions)
  .where(or(eq(suppressions.email, sql.placeholder('email')), eq(suppressions.email, sql.placeholder('digest')))).limit(1));

/**
 * The suppression of this (normalised) address, if any: kept under the address, or under its
 * digest (`digest`) once the contact it belonged to was erased.
 */
export async function suppressionOfEmail(db: Database, email: string, digest: string): Promise<typeof suppressions.$inferSelect | undefined> {
  const [row] = await suppressionByEmail(db).execute({ email, digest });
  return row;
}

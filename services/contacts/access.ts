import { and, asc, eq, gt, sql, type SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { Database } from '../../db/client';
import { contactRowById } from '../../db/queries/contacts';
import { auditRecords, consentHistory, contactConsents, enrolments, events, outgoingEmails, tasks } from '../../db/schema';
import { auditForEnrolment } from '../audit/records';
import { invalid, notFound } from '../lib/errors';
import { consentChangeView } from './consent-ledger';
import { toContact } from './contacts';

/** The kinds of item an export holds, in the order it pages through them. */
export const EXPORT_SECTIONS = ['consent', 'consent_change', 'event', 'enrolment', 'email', 'task', 'audit_record'] as const;
export type ExportSection = (typeof EXPORT_SECTIONS)[number];

/** Steps of an enrolment's path shown in the export (the audit records, also exported, hold all of them). */
const PATH_SHOWN = 100;

type Item = Record<string, unknown>;
interface Reader {
  section: ExportSection;
  /** At most this many rows per page (an enrolment brings its path). */
  pageMax: number;
  /** What its keys look like: a cursor's key is checked before it reaches a query. */
  key: RegExp;
  /** Rows after `after` (a key this reader gave), in key order, each with its key. */
  read(db: Database, contactId: string, after: string | undefined, limit: number): Promise<Array<{ key: string; item: Item }>>;
}

/** Dates as ISO strings, the rest as it is. */
function plain(row: object): Item {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, v instanceof Date ? v.toISOString() : v]));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const BIGINT = /^[0-9]{1,18}$/;

/** A reader over one table's rows of the contact, keyed by a uuid or bigint id. */
function byId<T extends { id: string | number }>(
  section: ExportSection, table: PgTable, contactColumn: PgColumn, idColumn: PgColumn, view: (row: T) => Item = plain, pageMax = 1000,
): Reader {
  return {
    section, pageMax, key: idColumn.columnType === 'PgUUID' ? UUID : BIGINT,
    async read(db, contactId, after, limit) {
      const where: Array<SQL | undefined> = [eq(contactColumn, contactId), after === undefined ? undefined : gt(idColumn, after)];
      const rows = await db.select().from(table).where(and(...where)).orderBy(asc(idColumn)).limit(limit) as T[];
      return rows.map((row) => ({ key: String(row.id), item: view(row) }));
    },
  };
}

const enrolmentRows = byId('enrolment', enrolments, enrolments.contactId, enrolments.id, plain, 50);

const READERS: readonly Reader[] = [
  {
    // Keyed by channel and topic (a topic is [a-z0-9_-], a channel a word).
    section: 'consent', pageMax: 1000, key: /^[a-z]+ [a-z0-9_-]+$/,
    async read(db, contactId, after, limit) {
      const [channel, topic] = after === undefined ? [] : after.split(' ');
      const rows = await db.select().from(contactConsents)
        .where(and(eq(contactConsents.contactId, contactId), after === undefined ? undefined : sql`(${contactConsents.channel}, ${contactConsents.topic}) > (${channel}, ${topic})`))
        .orderBy(asc(contactConsents.channel), asc(contactConsents.topic)).limit(limit);
      return rows.map((row) => ({ key: `${row.channel} ${row.topic}`, item: plain(row) }));
    },
  },
  byId('consent_change', consentHistory, consentHistory.contactId, consentHistory.id, consentChangeView),
  byId('event', events, events.contactId, events.id),
  {
    ...enrolmentRows,
    async read(db, contactId, after, limit) {
      const page = await enrolmentRows.read(db, contactId, after, limit);
      for (const { key, item } of page) {
        item.path = (await auditForEnrolment(db, key, { last: PATH_SHOWN }))
          .map((r) => ({ at: r.at.toISOString(), action: r.action, outcome: r.outcome, stepId: r.stepId, stepType: r.stepType }));
      }
      return page;
    },
  },
  byId('email', outgoingEmails, outgoingEmails.contactId, outgoingEmails.id),
  byId('task', tasks, tasks.contactId, tasks.id),
  byId('audit_record', auditRecords, auditRecords.contactId, auditRecords.id),
];

export interface ContactExport {
  /** The contact as held now; an erased contact's tombstone is its id and erasedAt only. */
  contact: Item;
  erased: boolean;
  items: Array<Item & { section: ExportSection }>;
  nextCursor: string | null;
}

interface Cursor { s: number; k?: string }

function decode(cursor: string): Cursor {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as Cursor;
    const reader = Number.isInteger(parsed.s) ? READERS[parsed.s] : undefined;
    if (reader && (parsed.k === undefined || (typeof parsed.k === 'string' && reader.key.test(parsed.k)))) return parsed;
  } catch { /* answered below */ }
  throw invalid('invalid_cursor', 'The cursor is not one this export gave', [{ path: 'query.after', message: 'pass the nextCursor of the previous page' }]);
}

const encode = (cursor: Cursor) => Buffer.from(JSON.stringify(cursor), 'utf8').toString('base64url');

/**
 * Everything held about a contact (GDPR Art. 15), a page at a time: the contact, then its
 * consents, their history, events, enrolments with their paths, emails, tasks and audit
 * records, `limit` items per page at most (an enrolment with its path counts once; at most 50
 * a page), each read by its key after the cursor's, so no page reads more than it returns.
 * An erased contact's export is its tombstone: nothing else is held about a person any more.
 */
export async function exportContact(db: Database, contactId: string, page: { limit: number; after?: string }): Promise<ContactExport> {
  const row = await contactRowById(db, contactId);
  if (!row) throw notFound('contact', 'id', contactId);
  if (row.erasedAt) return { contact: { id: row.id, erasedAt: row.erasedAt.toISOString() }, erased: true, items: [], nextCursor: null };
  let { s, k } = page.after === undefined ? { s: 0, k: undefined } : decode(page.after);
  const items: ContactExport['items'] = [];
  while (s < READERS.length && items.length < page.limit) {
    const reader = READERS[s]!;
    const room = Math.min(page.limit - items.length, reader.pageMax);
    const rows = await reader.read(db, contactId, k, room + 1);
    items.push(...rows.slice(0, room).map(({ item }) => ({ section: reader.section, ...item })));
    if (rows.length > room) return { contact: plain(toContact(row)), erased: false, items, nextCursor: encode({ s, k: rows[room - 1]!.key }) };
    s += 1;
    k = undefined;
  }
  return { contact: plain(toContact(row)), erased: false, items, nextCursor: s < READERS.length ? encode({ s }) : null };
}

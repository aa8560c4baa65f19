import { getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { auditRecords, enrolments, journeys, type EnrolmentRow } from '../schema';
import { columnArrays, columnNames, compiledStatement, fieldsAs, runStatement, selectList, unnestRows } from '../statements';
import { AUDIT_CONTENT_FIELDS, type ChainedAuditRecord } from './audit';

interface PriorValues { journeyId: string; contactIds: string[]; keys: string[] }

const priorStatement = compiledStatement<PriorValues>('nurture_prior_enrolments', (param) => sql`
  select ${fieldsAs(getTableColumns(enrolments))} from ${enrolments}
  where ${enrolments.journeyId} = ${param('journeyId')}::uuid
    and (${enrolments.contactId} = any(${param('contactIds')}::uuid[]) or ${enrolments.idempotencyKey} = any(${param('keys')}::text[]))`);

/** The journey's enrolments of these contacts or with these request keys, in one query. */
export async function priorEnrolments(db: Database, values: PriorValues): Promise<EnrolmentRow[]> {
  return runStatement<EnrolmentRow, PriorValues>(db, priorStatement, values);
}

const enrolmentColumns = getTableColumns(enrolments);
const enrolmentFields = Object.keys(enrolmentColumns) as Array<keyof EnrolmentRow>;
const auditColumns = getTableColumns(auditRecords);
const firstRecordFields = [...AUDIT_CONTENT_FIELDS, 'seq', 'prevHash', 'hash'] as const satisfies ReadonlyArray<keyof ChainedAuditRecord>;

/**
 * Enrolment rows and their first audit records in one statement, compiled once: a record goes in
 * only with its row, and a row that exists already (same workflow id, sequence or key: a
 * concurrent identical request) is left out with its record.
 */
const insertEnrolmentsStatement = compiledStatement<Record<string, unknown>>('nurture_insert_enrolments', (param) => sql`
  with target as (
    select 1 where not ${param('check')}::boolean or exists (
      select 1 from ${journeys}
      where ${journeys.id} = ${param('journeyId')}::uuid and ${journeys.latestVersion} = ${param('version')}::int and ${journeys.status} = 'active'
      -- Waits for a publish or pause in flight and checks the row it committed.
      for share)
  ),
  enrolled as (
    insert into ${enrolments} (${columnNames(enrolmentColumns, enrolmentFields)})
    select ${selectList(enrolmentColumns, enrolmentFields, 'row')} from ${unnestRows(enrolmentColumns, enrolmentFields, (f) => param(`row.${f}`), 'row')}
    where exists (select 1 from target)
    on conflict do nothing
    returning id
  ),
  recorded as (
    insert into ${auditRecords} (${columnNames(auditColumns, firstRecordFields)})
    select ${selectList(auditColumns, firstRecordFields, 'record')} from ${unnestRows(auditColumns, firstRecordFields, (f) => param(`record.${f}`), 'record')}
    where record.enrolment_id in (select id from enrolled)
  )
  select array(select id::text from enrolled) as ids, exists (select 1 from target) as current`);

/** The journey version enrolments go into; `check`: whether to check it is still current and active first. */
export interface EnrolmentInsertTarget { check: boolean; journeyId: string; version: number }

/**
 * Enrolment rows with the first records of their audit chains, in one atomic statement. When
 * `check` is set and the version is no longer the journey's latest, or the journey is not
 * active, nothing goes in and `current` is false. `ids`: the rows inserted (those that existed
 * already are left out, with their records).
 */
export async function insertEnrolmentsWithRecords(
  db: Database, target: EnrolmentInsertTarget, rows: EnrolmentRow[], records: ChainedAuditRecord[],
): Promise<{ ids: string[]; current: boolean }> {
  const values = {
    check: target.check, journeyId: target.journeyId, version: target.version,
    ...prefixed('row', columnArrays(enrolmentColumns, enrolmentFields, rows)),
    ...prefixed('record', columnArrays(auditColumns, firstRecordFields, records)),
  };
  const [done] = await runStatement<{ ids: string[]; current: boolean }, Record<string, unknown>>(db, insertEnrolmentsStatement, values);
  return done!;
}

const prefixed = <T>(prefix: string, values: Record<string, T>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));

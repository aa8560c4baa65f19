import { getTableColumns, sql } from 'drizzle-orm';
import type { Database } from '../client';
import { auditRecords, type AuditRecordRow } from '../schema';
import { columnNames, compiledStatement, runStatement, typedParams, type ParamOf } from '../statements';
import { progressUpdate, progressValues, type EnrolmentProgress, type ProgressValues } from './enrolment-progress';

/** What a record says, without its place in the chain (seq, prev_hash, hash): the fields its hash covers. */
export const AUDIT_CONTENT_FIELDS = [
  'chain', 'at', 'actor', 'action', 'outcome', 'contactId', 'journeyKey', 'journeyVersion', 'enrolmentId', 'workflowId',
  'stepId', 'stepType', 'idempotencyKey', 'providerMessageId', 'consentState', 'templateVersion', 'test', 'details',
] as const satisfies ReadonlyArray<keyof AuditRecordRow>;

export type AuditContent = Pick<AuditRecordRow, (typeof AUDIT_CONTENT_FIELDS)[number]>;

/** A record with its place in its chain and its hash, as the first record of a new chain goes in. */
export type ChainedAuditRecord = AuditContent & Pick<AuditRecordRow, 'seq' | 'prevHash' | 'hash'>;

/** The named values of the append statement: the record's content, its digest, and a progress update. */
type AppendValues = AuditContent & { digest: string } & Partial<Omit<ProgressValues, 'enrolmentId'>>;

const contentColumns = getTableColumns(auditRecords);

/**
 * The append, compiled once, with or without the enrolment's progress update: it reads the
 * chain's end and the key, inserts the next record unless the key was written before, with its
 * hash computed by PostgreSQL from the end it read (`linkHash` in services/audit/records.ts),
 * and moves the enrolment when the record went in or was in already (a retry).
 */
function appendStatement(name: string, withProgress: boolean) {
  return compiledStatement<AppendValues>(name, (param) => {
    const next = sql`coalesce(last.seq, 0) + 1`;
    const moved = sql`(exists (select 1 from appended) or exists (select 1 from seen))`;
    return sql`
      with seen as (select id, outcome, details from ${auditRecords} where ${auditRecords.idempotencyKey} = ${param('idempotencyKey')}::text),
      last as (select seq, hash from ${auditRecords} where ${auditRecords.chain} = ${param('chain')}::text order by seq desc limit 1),
      appended as (
        insert into ${auditRecords} (${columnNames(contentColumns, AUDIT_CONTENT_FIELDS)}, seq, prev_hash, hash)
        select ${typedParams(contentColumns, AUDIT_CONTENT_FIELDS, param)}, ${next}, last.hash,
          'v2:' || encode(sha256(convert_to(coalesce(last.hash, '') || '|' || (${next}) || '|' || ${param('digest')}::text, 'UTF8')), 'hex')
        from (select 1) one left join last on true
        where not exists (select 1 from seen)
        on conflict do nothing
        returning id
      )${withProgress ? sql`, moved as (${progressUpdate(param as ParamOf<ProgressValues>, moved)})` : sql``}
      select (select count(*) from appended)::int as appended, seen.id as seen, seen.outcome as seen_outcome, seen.details as seen_details
      from (select 1) one left join seen on true`;
  });
}

const append = appendStatement('nurture_append_audit', false);
const appendWithProgress = appendStatement('nurture_append_audit_progress', true);

/** What one append did: inserted the record, found its key written before (and what that said), or neither (a lost race). */
export interface AppendAttempt {
  appended: boolean;
  seen?: { outcome: string; details: Record<string, unknown> };
}

/**
 * One attempt to append a record at its chain's end, unless its key was written before, in one
 * statement and without locks; `progress` moves the record's enrolment in the same statement
 * (also when the key was written before). A concurrent append to the same chain can win the
 * place: then neither `appended` nor `seen`, and the caller tries again.
 */
export async function appendAuditRecord(db: Database, record: AuditContent & { digest: string }, progress?: EnrolmentProgress): Promise<AppendAttempt> {
  const values: AppendValues = { ...record, ...(progress ? progressValues(record.enrolmentId!, progress) : {}), enrolmentId: record.enrolmentId };
  const [found] = await runStatement<{ appended: number; seen: string | null; seen_outcome: string; seen_details: Record<string, unknown> }, AppendValues>(
    db, progress ? appendWithProgress : append, values);
  if (found && found.appended > 0) return { appended: true };
  if (found?.seen != null) return { appended: false, seen: { outcome: found.seen_outcome, details: found.seen_details } };
  return { appended: false };
}

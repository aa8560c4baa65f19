import { randomUUID } from 'node:crypto';
import { and, eq, getTableColumns, sql } from 'drizzle-orm';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { auditRecords, enrolments, journeys, type EnrolmentRow, type JourneyRow } from '../../db/schema';
import { ContactId, EnrolmentStatusKey, JourneyKey, JourneyStep, JourneyVersion } from '../../workflows/contract';
import { cancelEnrolmentSignal, journeyWorkflow, type EnrolmentInput } from '../../workflows/contract';
import { durationToMs, type JourneyDefinition } from '../../journey-language';
import { firstRecord } from '../audit/records';
import { recordProgress } from './progress';
import { columnArrays, columnNames, compiledStatement, runStatement, selectList, unnestRows } from '../../db/statements';
import { conflict, notFound } from '../lib/errors';
import { getVersion, recentJourney, type JourneyVersion as PublishedVersion } from '../journeys/journeys';

export interface EnrolDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

/** Deterministic workflow id: `journey:<key>:<contactId>`, then `:<n>` for re-entries. */
export function enrolmentWorkflowId(journeyKey: string, contactId: string, sequence: number): string {
  return sequence === 1 ? `journey:${journeyKey}:${contactId}` : `journey:${journeyKey}:${contactId}:${sequence}`;
}

/** The journey and its latest published version, read once for any number of enrolments. */
export interface EnrolmentTarget {
  journey: JourneyRow;
  version: PublishedVersion;
}

/** The target from a recent read (`recentJourney`), or a fresh one. */
export async function enrolmentTarget(db: Database, journeyKey: string, fresh = false): Promise<EnrolmentTarget> {
  const journey = await recentJourney(db, journeyKey, fresh);
  if (journey.latestVersion === null) {
    throw conflict('journey_not_published', `Journey "${journey.key}" has no published version`, { field: 'journeyKey' });
  }
  return { journey, version: await getVersion(db, journey.id, journey.latestVersion) };
}

/** A new enrolment's row, as it will be inserted (running, from now). */
export function newEnrolment({ journey, version }: EnrolmentTarget, contactId: string, sequence: number, idempotencyKey?: string): EnrolmentRow {
  return {
    id: randomUUID(), journeyId: journey.id, journeyKey: journey.key, journeyVersion: version.version, contactId, sequence,
    workflowId: enrolmentWorkflowId(journey.key, contactId, sequence), idempotencyKey: idempotencyKey ?? null,
    status: 'running', currentStep: null, testRunId: null, startedAt: new Date(), endedAt: null,
  };
}

/** Rows per statement: each statement is atomic; a bulk request of 10,000 takes twenty. */
const INSERT_CHUNK = 500;

const enrolmentColumns = getTableColumns(enrolments);
const enrolmentFields = Object.keys(enrolmentColumns) as Array<keyof EnrolmentRow>;
const auditColumns = getTableColumns(auditRecords);
type FirstRecord = ReturnType<typeof firstRecord>;
const firstRecordFields = Object.keys(firstRecord({ actor: '', action: '', outcome: '' })) as Array<keyof FirstRecord>;

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

/**
 * Enrolment rows and their first audit records, 500 rows per statement (atomic each), for the
 * target's version while it is still the journey's latest and the journey is active (checked by
 * the first statement: one request, one version). Returns the ids inserted (rows that existed
 * already are left out), or `stale` when the target was not current any more (published again,
 * paused): then nothing went in.
 */
export async function insertEnrolments(db: Database, target: EnrolmentTarget, rows: EnrolmentRow[], actor: string): Promise<Set<string> | 'stale'> {
  const inserted = new Set<string>();
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    // New chains: nothing else can write to them before their workflows start.
    const records = chunk.map((row) => firstRecord({
      actor, action: 'enrolment.started', outcome: 'started', contactId: row.contactId,
      journeyKey: row.journeyKey, journeyVersion: row.journeyVersion, enrolmentId: row.id,
      workflowId: row.workflowId, idempotencyKey: `${row.workflowId}:enrolled`,
      details: { sequence: row.sequence, requestIdempotencyKey: row.idempotencyKey },
    }));
    const values = {
      check: i === 0, journeyId: target.journey.id, version: target.version.version,
      ...prefixed('row', columnArrays(enrolmentColumns, enrolmentFields, chunk)),
      ...prefixed('record', columnArrays(auditColumns, firstRecordFields, records)),
    };
    const [done] = await runStatement<{ ids: string[]; current: boolean }, Record<string, unknown>>(db, insertEnrolmentsStatement, values);
    if (!done!.current) return 'stale';
    for (const id of done!.ids) inserted.add(id);
  }
  return inserted;
}

const prefixed = <T>(prefix: string, values: Record<string, T>) =>
  Object.fromEntries(Object.entries(values).map(([k, v]) => [`${prefix}.${k}`, v]));

/** The enrolment a repeated request should get back, following the journey's re-entry rule. */
export function reusableEnrolment(prior: { byKey?: EnrolmentRow; latest?: EnrolmentRow }, entry: JourneyDefinition['entry']): EnrolmentRow | undefined {
  if (prior.byKey) return prior.byKey;
  const { latest } = prior;
  if (!latest) return undefined;
  const cooling = entry.cooldown !== undefined && Date.now() - latest.startedAt.getTime() < (durationToMs(entry.cooldown) ?? 0);
  switch (entry.reentry) {
    case 'once': return latest;
    case 'after_exit': return latest.status === 'running' || cooling ? latest : undefined;
    case 'always': return cooling ? latest : undefined;
  }
}

/** The contact's running enrolments (cancelled with the journey, sent events). */
export async function runningEnrolments(db: Database, contactId: string): Promise<EnrolmentRow[]> {
  return db.select().from(enrolments).where(and(eq(enrolments.contactId, contactId), eq(enrolments.status, 'running')));
}

/** Asks an enrolment to end as cancelled (it records its own end); idempotent. */
export async function cancelEnrolment(deps: EnrolDeps, id: string, reason: string): Promise<EnrolmentRow> {
  const enrolment = await getEnrolment(deps.db, id);
  if (enrolment.status !== 'running') return enrolment;
  try {
    await deps.temporal.workflow.getHandle(enrolment.workflowId).signal(cancelEnrolmentSignal, { reason });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await recordProgress(deps.db, id, { status: 'cancelled', currentStep: null });
  }
  return enrolment;
}

/**
 * Starts the run of a `running` enrolment whose run Temporal does not know (a crash between the
 * row's insert and the start), asked again: one describe. A finished enrolment, or one whose run
 * exists, is left alone: a run is never started again for an enrolment that ended, even once
 * Temporal no longer retains its closed run (REJECT_DUPLICATE protects only while it does).
 */
export async function startMissingWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
  if (enrolment.status !== 'running') return;
  try {
    await deps.temporal.workflow.getHandle(enrolment.workflowId).describe();
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await startWorkflow(deps, enrolment, journey);
  }
}

/** Starts the enrolment's workflow; a no-op when it runs or ran already. */
export async function startWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
  const version = await getVersion(deps.db, enrolment.journeyId, enrolment.journeyVersion);
  const input: EnrolmentInput = {
    enrolmentId: enrolment.id, journeyKey: enrolment.journeyKey, journeyVersion: enrolment.journeyVersion,
    contactId: enrolment.contactId, definition: version.definition,
  };
  try {
    await deps.temporal.workflow.start(journeyWorkflow, {
      workflowId: enrolment.workflowId,
      taskQueue: deps.taskQueue,
      args: [input],
      workflowIdConflictPolicy: 'USE_EXISTING',
      workflowIdReusePolicy: 'REJECT_DUPLICATE',
      typedSearchAttributes: [
        { key: JourneyKey, value: enrolment.journeyKey },
        { key: JourneyVersion, value: enrolment.journeyVersion },
        { key: ContactId, value: enrolment.contactId },
        { key: JourneyStep, value: version.definition.steps[0]!.id },
        { key: EnrolmentStatusKey, value: 'running' },
      ],
      staticSummary: `Journey "${journey.name}" (${journey.key} v${enrolment.journeyVersion}) for contact ${enrolment.contactId}`,
      staticDetails: `Enrolment ${enrolment.id}, sequence ${enrolment.sequence}. ` +
        `Steps: ${version.definition.steps.map((s) => `${s.id} (${s.type})`).join(' → ')}`,
    });
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
}

export async function getEnrolment(db: Database, id: string): Promise<EnrolmentRow> {
  const [row] = await db.select().from(enrolments).where(eq(enrolments.id, id));
  if (!row) throw notFound('enrolment', 'id', id);
  return row;
}

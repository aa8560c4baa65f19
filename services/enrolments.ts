import { randomUUID } from 'node:crypto';
import { and, desc, eq, getTableColumns, or, sql } from 'drizzle-orm';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { auditRecords, enrolments, type EnrolmentRow, type EnrolmentStatus, type JourneyRow } from '../db/schema';
import { ContactId, EnrolmentStatus as EnrolmentStatusKey, JourneyKey, JourneyStep, JourneyVersion } from '../workflows/search-attributes';
import type { EnrolmentInput } from '../workflows/types';
import type { JourneyDefinition } from './journey-definition';
import { firstRecord, type AlongsideWrite } from './audit';
import { columnNames, typedParams } from '../db/typed-params';
import { getContact, upsertContact } from './contacts';
import type { ContactUpsert } from './contact-schema';
import { durationToMs } from './durations';
import { metrics } from './metrics';
import { conflict, notFound } from './errors';
import { getJourney, getVersion, type JourneyVersion as PublishedVersion } from './journeys';

export interface EnrolDeps {
  db: Database;
  temporal: Client;
  taskQueue: string;
}

export interface EnrolRequest {
  journeyKey: string;
  contactId?: string;
  contact?: ContactUpsert;
  idempotencyKey?: string;
  actor?: string;
}

/** Deterministic workflow id: `journey:<key>:<contactId>`, then `:<n>` for re-entries. */
export function enrolmentWorkflowId(journeyKey: string, contactId: string, sequence: number): string {
  return sequence === 1 ? `journey:${journeyKey}:${contactId}` : `journey:${journeyKey}:${contactId}:${sequence}`;
}

/**
 * Enrols a contact in a journey's latest version, idempotently: the same request (same
 * idempotency key, or a contact the entry rules do not let in again) returns the enrolment that
 * exists and starts nothing new. Safe to retry after a failure at any point: the enrolment row
 * and its `enrolment.started` audit record commit together, before the workflow starts.
 */
export async function enrol(deps: EnrolDeps, req: EnrolRequest): Promise<{ enrolment: EnrolmentRow; created: boolean }> {
  return enrolIn(deps, await enrolmentTarget(deps.db, req.journeyKey), req);
}

/** The journey and its latest published version, read once for any number of enrolments. */
export interface EnrolmentTarget {
  journey: JourneyRow;
  version: PublishedVersion;
}

export async function enrolmentTarget(db: Database, journeyKey: string): Promise<EnrolmentTarget> {
  const journey = await getJourney(db, journeyKey);
  if (journey.latestVersion === null) {
    throw conflict('journey_not_published', `Journey "${journey.key}" has no published version`, { field: 'journeyKey' });
  }
  return { journey, version: await getVersion(db, journey.id, journey.latestVersion) };
}

/** `enrol` with the journey already read (bulk enrolment reads it once). */
export async function enrolIn(deps: EnrolDeps, { journey, version }: EnrolmentTarget, req: Omit<EnrolRequest, 'journeyKey'>): Promise<{ enrolment: EnrolmentRow; created: boolean }> {
  const { db } = deps;
  const contact = req.contactId
    ? await getContact(db, req.contactId).catch(() => { throw notFound('contact', 'contactId', req.contactId!); })
    : (await upsertContact(db, req.contact!)).contact;

  const prior = await priorEnrolments(db, journey.id, contact.id, req.idempotencyKey);
  const existing = reusableEnrolment(prior, version.definition.entry);
  if (existing) {
    await startWorkflow(deps, existing, journey);
    return { enrolment: existing, created: false };
  }
  if (journey.status === 'paused') {
    throw conflict('journey_paused', `Journey "${journey.key}" is paused and takes no new enrolments`, { field: 'journeyKey' });
  }
  const planned = newEnrolment({ journey, version }, contact.id, (prior.latest?.sequence ?? 0) + 1, req.idempotencyKey);
  const inserted = (await insertEnrolments(db, [planned], req.actor ?? 'api')).has(planned.id) ? planned : undefined;
  // A concurrent identical request won the insert: answer with its enrolment.
  const enrolment = inserted ?? (await priorEnrolments(db, journey.id, contact.id, req.idempotencyKey)).latest;
  if (!enrolment) throw conflict('enrolment_conflict', 'A concurrent enrolment of this contact is under way; retry');
  await startWorkflow(deps, enrolment, journey);
  if (inserted) metrics.enrolmentsStarted.inc({ journey: journey.key, trigger: (req.actor ?? 'api').split(':')[0] });
  return { enrolment, created: Boolean(inserted) };
}

/** A new enrolment's row, as it will be inserted (running, from now). */
export function newEnrolment({ journey, version }: EnrolmentTarget, contactId: string, sequence: number, idempotencyKey?: string): EnrolmentRow {
  return {
    id: randomUUID(), journeyId: journey.id, journeyKey: journey.key, journeyVersion: version.version, contactId, sequence,
    workflowId: enrolmentWorkflowId(journey.key, contactId, sequence), idempotencyKey: idempotencyKey ?? null,
    status: 'running', currentStep: null, testRunId: null, startedAt: new Date(), endedAt: null,
  };
}

/** Rows per statement: PostgreSQL takes at most 65,535 parameters (about 35 per enrolment here). */
const INSERT_CHUNK = 500;

/**
 * Enrolment rows and their first audit records, one statement per 500 rows (atomic each): a
 * record goes in only with its row. Returns the ids inserted; a row that exists already (same
 * workflow id, sequence or key: a concurrent identical request) is left out.
 */
export async function insertEnrolments(db: Database, rows: EnrolmentRow[], actor: string): Promise<Set<string>> {
  const inserted = new Set<string>();
  const columns = getTableColumns(auditRecords);
  for (let i = 0; i < rows.length; i += INSERT_CHUNK) {
    const chunk = rows.slice(i, i + INSERT_CHUNK);
    // New chains: nothing else can write to them before their workflows start.
    const records = chunk.map((row) => firstRecord({
      actor, action: 'enrolment.started', outcome: 'started', contactId: row.contactId,
      journeyKey: row.journeyKey, journeyVersion: row.journeyVersion, enrolmentId: row.id,
      workflowId: row.workflowId, idempotencyKey: `${row.workflowId}:enrolled`,
      details: { sequence: row.sequence, requestIdempotencyKey: row.idempotencyKey },
    }));
    const fields = Object.keys(records[0]!) as Array<keyof (typeof records)[number]>;
    const names = columnNames(columns, fields);
    const values = sql.join(records.map((r) => sql`(${typedParams(columns, r, fields)})`), sql`, `);
    const insertRows = db.insert(enrolments).values(chunk).onConflictDoNothing().returning({ id: enrolments.id });
    const { rows: done } = await db.execute(sql`
      with enrolled as (${insertRows.getSQL()}),
      recorded as (
        insert into ${auditRecords} (${names})
        select ${names} from (values ${values}) as record (${names}) where enrolment_id in (select id from enrolled)
      )
      select id from enrolled`) as unknown as { rows: Array<{ id: string }> };
    for (const { id } of done) inserted.add(id);
  }
  return inserted;
}

/** A contact's enrolments in a journey that a new request must look at: by idempotency key, and the latest. */
async function priorEnrolments(
  db: Database, journeyId: string, contactId: string, idempotencyKey: string | undefined,
): Promise<{ byKey?: EnrolmentRow; latest?: EnrolmentRow }> {
  // One query: the row with the key (at most one per journey) sorts first, then the contact's by sequence.
  const rows = await db.select().from(enrolments)
    .where(and(eq(enrolments.journeyId, journeyId), idempotencyKey
      ? or(eq(enrolments.idempotencyKey, idempotencyKey), eq(enrolments.contactId, contactId))
      : eq(enrolments.contactId, contactId)))
    .orderBy(...(idempotencyKey ? [desc(sql`coalesce(${enrolments.idempotencyKey} = ${idempotencyKey}, false)`)] : []), desc(enrolments.sequence))
    .limit(2);
  const mine = rows.filter((r) => r.contactId === contactId).sort((a, b) => b.sequence - a.sequence);
  return { byKey: idempotencyKey ? rows.find((r) => r.idempotencyKey === idempotencyKey) : undefined, latest: mine[0] };
}

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
    await deps.temporal.workflow.getHandle(enrolment.workflowId).signal('cancelEnrolment', { reason });
  } catch (err) {
    if (!(err instanceof WorkflowNotFoundError)) throw err;
    await recordProgress(deps.db, id, { status: 'cancelled', currentStep: null });
  }
  return enrolment;
}

/** Starts the enrolment's workflow; a no-op when it runs or ran already. */
export async function startWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
  const version = await getVersion(deps.db, enrolment.journeyId, enrolment.journeyVersion);
  const input: EnrolmentInput = {
    enrolmentId: enrolment.id, journeyKey: enrolment.journeyKey, journeyVersion: enrolment.journeyVersion,
    contactId: enrolment.contactId, definition: version.definition,
  };
  try {
    await deps.temporal.workflow.start('journeyWorkflow', {
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

/** Keeps the enrolment row's current step and status in step with its workflow. */
export async function recordProgress(db: Database, enrolmentId: string, progress: EnrolmentProgress): Promise<void> {
  await db.execute(progressWrite(db, enrolmentId, progress)());
}

export interface EnrolmentProgress { currentStep?: string | null; status?: EnrolmentStatus }

/** The progress update as a write that can go with the step's audit record (`appendAudit`). */
export function progressWrite(db: Database, enrolmentId: string, progress: EnrolmentProgress): AlongsideWrite {
  const ended = progress.status && progress.status !== 'running';
  return (onlyIf) => db.update(enrolments).set({
    ...(progress.currentStep !== undefined ? { currentStep: progress.currentStep } : {}),
    ...(progress.status ? { status: progress.status } : {}),
    ...(ended ? { endedAt: sql`coalesce(${enrolments.endedAt}, now())` } : {}),
  }).where(and(eq(enrolments.id, enrolmentId), onlyIf)).getSQL();
}

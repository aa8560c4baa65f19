import { randomUUID } from 'node:crypto';
import { and, eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { insertEnrolmentsWithRecords } from '../../db/queries/enrolments';
import { enrolments, type EnrolmentRow, type JourneyRow } from '../../db/schema';
import { digestOf, firstRecord } from '../audit/records';
import { conflict, notFound } from '../lib/errors';
import { getVersion, recentJourney, type JourneyVersion as PublishedVersion } from '../journeys/journeys';

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
export function newEnrolment(
  { journey, version }: EnrolmentTarget, contactId: string, sequence: number, idempotencyKey?: string, triggerEventId?: string,
): EnrolmentRow {
  return {
    id: randomUUID(), journeyId: journey.id, journeyKey: journey.key, journeyVersion: version.version, contactId, sequence,
    workflowId: enrolmentWorkflowId(journey.key, contactId, sequence), idempotencyKey: idempotencyKey ?? null,
    status: 'running', currentStep: null, testRunId: null, triggerEventId: triggerEventId ?? null, startedAt: new Date(), endedAt: null,
  };
}

/** Rows per statement: each statement is atomic; a bulk request of 10,000 takes twenty. */
const INSERT_CHUNK = 500;

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
      // The caller's key is free text (it may carry an address): the record keeps its digest.
      details: { sequence: row.sequence, requestKeyDigest: row.idempotencyKey === null ? null : digestOf(row.idempotencyKey) },
    }));
    const done = await insertEnrolmentsWithRecords(db, { check: i === 0, journeyId: target.journey.id, version: target.version.version }, chunk, records);
    if (!done.current) return 'stale';
    for (const id of done.ids) inserted.add(id);
  }
  return inserted;
}

/** The contact's running enrolments (cancelled with the journey, sent events). */
export async function runningEnrolments(db: Database, contactId: string): Promise<EnrolmentRow[]> {
  return db.select().from(enrolments).where(and(eq(enrolments.contactId, contactId), eq(enrolments.status, 'running')));
}

export async function getEnrolment(db: Database, id: string): Promise<EnrolmentRow> {
  const [row] = await db.select().from(enrolments).where(eq(enrolments.id, id));
  if (!row) throw notFound('enrolment', 'id', id);
  return row;
}

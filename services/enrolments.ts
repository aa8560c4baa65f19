import { and, desc, eq, sql } from 'drizzle-orm';
import { WorkflowExecutionAlreadyStartedError, WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { Database } from '../db/client';
import { enrolments, type EnrolmentRow, type EnrolmentStatus, type JourneyRow } from '../db/schema';
import { ContactId, EnrolmentStatus as EnrolmentStatusKey, JourneyKey, JourneyStep, JourneyVersion } from '../workflows/search-attributes';
import type { EnrolmentInput } from '../workflows/types';
import { appendAudit } from './audit';
import { getContact, upsertContact } from './contacts';
import type { ContactUpsert } from './contact-schema';
import { durationToMs } from './durations';
import { metrics } from './metrics';
import { conflict, notFound } from './errors';
import { getJourney, getVersion } from './journeys';

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
 * exists and starts nothing new. Safe to retry after a failure at any point.
 */
export async function enrol(deps: EnrolDeps, req: EnrolRequest): Promise<{ enrolment: EnrolmentRow; created: boolean }> {
  const { db } = deps;
  const journey = await getJourney(db, req.journeyKey);
  if (journey.latestVersion === null) {
    throw conflict('journey_not_published', `Journey "${journey.key}" has no published version`, { field: 'journeyKey' });
  }
  const contact = req.contactId
    ? await getContact(db, req.contactId).catch(() => { throw notFound('contact', 'contactId', req.contactId!); })
    : (await upsertContact(db, req.contact!)).contact;

  const existing = await reusableEnrolment(db, journey, contact.id, req.idempotencyKey);
  if (existing) {
    await startWorkflow(deps, existing, journey);
    return { enrolment: existing, created: false };
  }
  if (journey.status === 'paused') {
    throw conflict('journey_paused', `Journey "${journey.key}" is paused and takes no new enrolments`, { field: 'journeyKey' });
  }
  const [last] = await db.select({ sequence: enrolments.sequence }).from(enrolments)
    .where(and(eq(enrolments.journeyId, journey.id), eq(enrolments.contactId, contact.id)))
    .orderBy(desc(enrolments.sequence)).limit(1);
  const sequence = (last?.sequence ?? 0) + 1;
  const [inserted] = await db.insert(enrolments).values({
    journeyId: journey.id, journeyKey: journey.key, journeyVersion: journey.latestVersion,
    contactId: contact.id, sequence, workflowId: enrolmentWorkflowId(journey.key, contact.id, sequence),
    idempotencyKey: req.idempotencyKey, status: 'running',
  }).onConflictDoNothing().returning();
  // A concurrent identical request won the insert: answer with its enrolment.
  const enrolment = inserted ?? (await reusableEnrolment(db, journey, contact.id, req.idempotencyKey, true));
  if (!enrolment) throw conflict('enrolment_conflict', 'A concurrent enrolment of this contact is under way; retry');
  await startWorkflow(deps, enrolment, journey);
  if (inserted) {
    metrics.enrolmentsStarted.inc({ journey: journey.key, trigger: (req.actor ?? 'api').split(':')[0] });
    await appendAudit(db, {
      actor: req.actor ?? 'api', action: 'enrolment.started', outcome: 'started', contactId: contact.id,
      journeyKey: journey.key, journeyVersion: enrolment.journeyVersion, enrolmentId: enrolment.id,
      workflowId: enrolment.workflowId, idempotencyKey: `${enrolment.workflowId}:enrolled`,
      details: { sequence, requestIdempotencyKey: req.idempotencyKey ?? null },
    });
  }
  return { enrolment, created: Boolean(inserted) };
}

/** The enrolment a repeated request should get back, following the journey's re-entry rule. */
async function reusableEnrolment(
  db: Database, journey: JourneyRow, contactId: string, idempotencyKey: string | undefined, latestAlways = false,
): Promise<EnrolmentRow | undefined> {
  if (idempotencyKey) {
    const [byKey] = await db.select().from(enrolments)
      .where(and(eq(enrolments.journeyId, journey.id), eq(enrolments.idempotencyKey, idempotencyKey)));
    if (byKey) return byKey;
  }
  const [latest] = await db.select().from(enrolments)
    .where(and(eq(enrolments.journeyId, journey.id), eq(enrolments.contactId, contactId)))
    .orderBy(desc(enrolments.sequence)).limit(1);
  if (!latest || latestAlways) return latest;
  const { entry } = (await getVersion(db, journey.id, journey.latestVersion!)).definition;
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
async function startWorkflow(deps: EnrolDeps, enrolment: EnrolmentRow, journey: JourneyRow): Promise<void> {
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
export async function recordProgress(
  db: Database, enrolmentId: string, progress: { currentStep?: string | null; status?: EnrolmentStatus },
): Promise<void> {
  const ended = progress.status && progress.status !== 'running';
  await db.update(enrolments).set({
    ...(progress.currentStep !== undefined ? { currentStep: progress.currentStep } : {}),
    ...(progress.status ? { status: progress.status } : {}),
    ...(ended ? { endedAt: sql`coalesce(${enrolments.endedAt}, now())` } : {}),
  }).where(eq(enrolments.id, enrolmentId));
}

import { and, asc, eq, inArray, isNull, sql } from 'drizzle-orm';
import { journeys, segmentChanges, segments } from '../../db/schema';
import { SEGMENT_ENTERED_EVENT, SEGMENT_LEFT_EVENT } from '../../workflows/contract';
import { ingestEvent } from '../contacts/events';
import { triggerEnrolment } from '../enrolment/enrol';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { getVersion } from '../journeys/journeys';
import { DomainError } from '../lib/errors';

/**
 * Sends the recorded segment changes of these contacts that are not sent yet (this write's, and
 * any a crashed or retried earlier attempt left), oldest first: each becomes the event
 * `segment.entered` / `segment.left` (with `properties.segment`, the key), stored once by the
 * change's id, which starts event-triggered journeys and reaches running enrolments (wait_for_event,
 * `segmentLeft` exits); an entry also enrols the contact in journeys triggered by that segment,
 * idempotently by the change's id. Only then is the change marked sent: a failure half-way is
 * finished by the next attempt, and nothing is done twice. Returns the enrolments it started.
 */
export async function sendSegmentChanges(deps: EnrolDeps, contactIds: string[]): Promise<string[]> {
  if (!contactIds.length) return [];
  const pending = await deps.db.select({
    id: segmentChanges.id, contactId: segmentChanges.contactId, kind: segmentChanges.kind, version: segmentChanges.version,
    at: segmentChanges.at, segmentKey: segments.key,
  }).from(segmentChanges).innerJoin(segments, eq(segments.id, segmentChanges.segmentId))
    .where(and(inArray(segmentChanges.contactId, contactIds), isNull(segmentChanges.processedAt))).orderBy(asc(segmentChanges.id));
  const enrolled: string[] = [];
  for (const change of pending) {
    try {
      const outcome = await ingestEvent(deps, {
        contactId: change.contactId, name: change.kind === 'entered' ? SEGMENT_ENTERED_EVENT : SEGMENT_LEFT_EVENT,
        properties: { segment: change.segmentKey, version: change.version }, occurredAt: change.at.toISOString(),
      }, { dedupeKey: `segment-change:${change.id}` });
      enrolled.push(...outcome.enrolled);
      if (change.kind === 'entered') enrolled.push(...await enrolSegmentJourneys(deps, change.segmentKey, change.contactId, change.id));
    } catch (err) {
      // An erased (or vanished) contact gets no events and no enrolments: its change is done.
      if (!(err instanceof DomainError && (err.status === 404 || err.status === 410))) throw err;
    }
    await deps.db.update(segmentChanges).set({ processedAt: sql`now()` }).where(eq(segmentChanges.id, change.id));
  }
  return enrolled;
}

/** Enrols the contact in the active journeys triggered by entering this segment, once per change. */
async function enrolSegmentJourneys(deps: EnrolDeps, segmentKey: string, contactId: string, changeId: number): Promise<string[]> {
  const candidates = await deps.db.select().from(journeys)
    .where(and(eq(journeys.triggerType, 'segment'), eq(journeys.triggerEvent, segmentKey), eq(journeys.status, 'active')));
  const enrolled: string[] = [];
  for (const journey of candidates) {
    const version = await getVersion(deps.db, journey.id, journey.latestVersion!);
    const { trigger } = version.definition;
    if (trigger.type !== 'segment' || trigger.segment !== segmentKey) continue;
    const enrolment = await triggerEnrolment(deps, { journey, version }, { contactId, idempotencyKey: `segment-change:${changeId}` }, `segment:${segmentKey}`);
    if (enrolment) enrolled.push(enrolment.id);
  }
  return enrolled;
}

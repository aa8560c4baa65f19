import { WorkflowNotFoundError } from '@temporalio/client';
import { and, eq, inArray, isNull } from 'drizzle-orm';
import { contacts, enrolments, events, type EnrolmentRow } from '../../db/schema';
import type { JourneyDefinition } from '../../journey-language';
import { CONTACT_CHANGED_EVENT, journeyEventSignal } from '../../workflows/contract';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { getVersion } from '../journeys/journeys';

/** Whether a journey version ends on contact state: a goal with a condition and no event, or an exit with a condition alone. */
export function hasStateRules(definition: JourneyDefinition): boolean {
  const goal = definition.goal;
  return (goal !== undefined && goal.event === undefined && goal.condition !== undefined)
    || definition.exits.some((e) => !('event' in e) && !('segmentLeft' in e));
}

/**
 * Tells the running enrolments of these contacts whose journeys have state goals or exits that
 * their contact changed: the event `contact.changed`, stored once per contact and change (its
 * `updatedAt`, so a retried write sends the same event, which an enrolment takes once) and
 * signalled by id, as every event is; the enrolment decides its goal and exits over the contact
 * as it is now. Returns how many enrolments it reached.
 */
export async function sendStateChanges(deps: EnrolDeps, contactIds: string[]): Promise<number> {
  if (!contactIds.length) return 0;
  // The running enrolments of all these contacts in one query; the versions are cached.
  const running = await deps.db.select().from(enrolments)
    .where(and(inArray(enrolments.contactId, contactIds), eq(enrolments.status, 'running'), isNull(enrolments.testRunId)));
  const told: EnrolmentRow[] = [];
  for (const enrolment of running) {
    if (hasStateRules((await getVersion(deps.db, enrolment.journeyId, enrolment.journeyVersion)).definition)) told.push(enrolment);
  }
  if (!told.length) return 0;
  const changed = await deps.db.select({ id: contacts.id, updatedAt: contacts.updatedAt }).from(contacts)
    .where(inArray(contacts.id, [...new Set(told.map((e) => e.contactId))]));
  let delivered = 0;
  for (const contact of changed) {
    const dedupeKey = `contact-changed:${contact.id}:${contact.updatedAt.toISOString()}`;
    await deps.db.insert(events).values({ dedupeKey, contactId: contact.id, name: CONTACT_CHANGED_EVENT, properties: {}, occurredAt: contact.updatedAt, processedAt: new Date() })
      .onConflictDoNothing();
    const [event] = await deps.db.select({ id: events.id, occurredAt: events.occurredAt }).from(events).where(eq(events.dedupeKey, dedupeKey));
    for (const enrolment of told.filter((e) => e.contactId === contact.id)) {
      try {
        await deps.temporal.workflow.getHandle(enrolment.workflowId)
          .signal(journeyEventSignal, { id: event!.id, name: CONTACT_CHANGED_EVENT, occurredAt: event!.occurredAt.toISOString() });
        delivered += 1;
      } catch (err) {
        if (!(err instanceof WorkflowNotFoundError)) throw err;
      }
    }
  }
  return delivered;
}

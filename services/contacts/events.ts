import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { EventRow } from '../../db/schema';
import { events, journeys } from '../../db/schema';
import { journeyEventSignal, type JourneyEvent } from '../../workflows/contract';
import { evaluate } from '../../journey-language';
import { appendAudit } from '../audit/records';
import { findExisting, getContact, upsertContact } from './contacts';
import { contactChanged } from '../segments/contact-changed';
import type { ContactUpsert } from './schemas';
import { triggerEnrolment } from '../enrolment/enrol';
import { runningEnrolments } from '../enrolment/rows';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { contactFacts } from './facts';
import { getVersion } from '../journeys/journeys';
import { DomainError, notFound } from '../lib/errors';
import { startProcessesOnEvent, type EventProcessStart } from '../processes/event-starts';

export interface EventInput {
  /** The sender's id for de-duplication: the same id is stored and processed once. */
  id?: string;
  contactId?: string;
  contact?: ContactUpsert;
  name: string;
  properties?: Record<string, unknown>;
  occurredAt?: string;
}

export interface EventOutcome {
  event: EventRow;
  duplicate: boolean;
  enrolled: string[];
  delivered: number;
  /** Runs of processes that start on this event (`startOn`), or why one was refused. */
  processRuns: EventProcessStart[];
}

/**
 * Stores an event once per id, enrols its contact in journeys whose event trigger matches
 * (entry rules apply; idempotent per event), and delivers it to the contact's running enrolments
 * (goal, exit, wait_for_event), and starts runs of processes that start on it. A repeat of an event already processed does nothing again; a
 * repeat of one whose processing failed half-way finishes it. Then the contact-changed hook runs
 * (an event changes event-history segments, an inline contact may have changed): not for the
 * service's own events (`internal`, stored under its key), which that hook sends.
 */
export async function ingestEvent(deps: EnrolDeps, input: EventInput, internal?: { dedupeKey: string }): Promise<EventOutcome> {
  const before = input.contact ? await findExisting(deps.db, input.contact) : undefined;
  const upserted = input.contactId ? undefined : await upsertContact(deps.db, input.contact!);
  const contact = input.contactId
    ? await getContact(deps.db, input.contactId).catch((err: unknown) => {
      // An erased contact's events are refused as erased (410), an unknown one's as not found.
      throw err instanceof DomainError && err.status === 410 ? err : notFound('contact', 'contactId', input.contactId!);
    })
    : upserted!.contact;
  const dedupeKey = internal?.dedupeKey ?? (input.id ? `api:${input.id}` : `generated:${randomUUID()}`);
  const [inserted] = await deps.db.insert(events).values({
    dedupeKey, contactId: contact.id, name: input.name, properties: input.properties ?? {},
    occurredAt: input.occurredAt ? new Date(input.occurredAt) : new Date(),
  }).onConflictDoNothing().returning();
  const event = inserted ?? (await deps.db.select().from(events).where(eq(events.dedupeKey, dedupeKey)))[0]!;
  if (!inserted && event.processedAt) return { event, duplicate: true, enrolled: [], delivered: 0, processRuns: [] };

  // In a trigger's condition the event at hand is also the one that starts the enrolment.
  const eventFacts = { name: event.name, properties: event.properties };
  const facts = { contact: contactFacts(contact), event: eventFacts, trigger: eventFacts };
  const enrolled = contact.test ? [] : await enrolByTrigger(deps, event, facts);
  const processRuns = contact.test ? [] : await startProcessesOnEvent(deps, event);
  const delivered = await deliver(deps, event, enrolled, contact.test);
  // The service's own events (a segment change's) come from the hook: they do not call it again.
  if (!internal) {
    enrolled.push(...await contactChanged(deps, { contactId: contact.id, before, after: upserted?.contact, created: upserted?.created }));
  }
  await deps.db.update(events).set({ processedAt: sql`now()` }).where(eq(events.id, event.id));
  return { event, duplicate: !inserted, enrolled, delivered, processRuns };
}

async function enrolByTrigger(deps: EnrolDeps, event: EventRow, facts: Parameters<typeof evaluate>[1]): Promise<string[]> {
  const candidates = await deps.db.select().from(journeys)
    .where(and(eq(journeys.triggerType, 'event'), eq(journeys.triggerEvent, event.name), eq(journeys.status, 'active')));
  const enrolled: string[] = [];
  for (const journey of candidates) {
    const version = await getVersion(deps.db, journey.id, journey.latestVersion!);
    const { trigger } = version.definition;
    if (trigger.type !== 'event' || (trigger.condition && !evaluate(trigger.condition, facts))) continue;
    const enrolment = await triggerEnrolment(deps, { journey, version },
      { contactId: event.contactId, idempotencyKey: `event:${event.id}`, triggerEventId: event.id }, `event:${event.name}`);
    if (enrolment) enrolled.push(enrolment.id);
  }
  return enrolled;
}

/**
 * Signals the event to every running enrolment of the contact (not the ones it just started); a
 * test contact's (a test run's scripted event) is recorded as test. The signal names the event,
 * nothing more: its properties and the contact stay here, out of Temporal's history, and the
 * workflow has conditions over them decided by an activity (workflows/events.ts).
 */
async function deliver(deps: EnrolDeps, event: EventRow, skip: string[], test: boolean): Promise<number> {
  const running = await runningEnrolments(deps.db, event.contactId);
  const payload: JourneyEvent = { id: event.id, name: event.name, occurredAt: event.occurredAt.toISOString() };
  let delivered = 0;
  for (const enrolment of running.filter((e) => !skip.includes(e.id))) {
    try {
      await deps.temporal.workflow.getHandle(enrolment.workflowId).signal(journeyEventSignal, payload);
      delivered += 1;
    } catch (err) {
      if (!(err instanceof WorkflowNotFoundError)) throw err;
    }
  }
  if (delivered) {
    await appendAudit(deps.db, {
      actor: 'api', action: 'event.delivered', outcome: 'delivered', contactId: event.contactId,
      idempotencyKey: `event:${event.id}:delivered`, test, details: { event: event.name, eventId: event.id, enrolments: delivered },
    });
  }
  return delivered;
}

import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { events } from '../../db/schema';
import { evaluate, readsTrigger, type Condition, type Facts } from '../../journey-language';
import { triggerOf } from '../enrolment/trigger';
import { contactFacts } from './facts';
import { findContact } from './contacts';

export interface EventConditionsRequest {
  eventId: string;
  contactId: string;
  /** The enrolment deciding (sent since trigger.* came in): conditions reading `trigger.*` see the event that started it. */
  enrolmentId?: string;
  /** In order; an absent condition always holds. */
  conditions: Array<Condition | undefined>;
}

/**
 * Which of an event's conditions (a goal's, an exit's, a wait_for_event step's) holds first,
 * over the event's properties and the contact as they are now: -1 when none does. A journey's
 * signal carries only the event's id and name, so its properties and the contact's fields never
 * enter Temporal's history; this reads them where they live and answers with an index. An
 * erased or unknown contact, or an event no longer stored, has no facts: only conditions that
 * hold on nothing pass.
 */
export async function firstHoldingCondition(db: Database, req: EventConditionsRequest): Promise<{ index: number }> {
  const contact = await findContact(db, req.contactId);
  const [event] = await db.select({ name: events.name, properties: events.properties }).from(events).where(eq(events.id, req.eventId));
  const trigger = req.conditions.some(readsTrigger) ? await triggerOf(db, req.enrolmentId) : undefined;
  const facts: Facts = {
    contact: contact ? contactFacts(contact) : undefined,
    event: event ? { name: event.name, properties: event.properties } : undefined,
    trigger,
  };
  return { index: req.conditions.findIndex((c) => c === undefined || evaluate(c, facts)) };
}

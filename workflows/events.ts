import { evaluate } from '../journey-language/interpreter';
import type { JourneyDefinition } from '../journey-language';
import type { EnrolmentState, JourneyEvent } from './contract';


const SEEN_KEPT = 200;
const INBOX_KEPT = 100;

/**
 * Takes an event delivered to the enrolment: a goal event ends it as converted, an exit event
 * ends it early; any other event goes to the inbox for a wait_for_event step. Idempotent by id.
 */
export function receiveEvent(definition: JourneyDefinition, state: EnrolmentState, event: JourneyEvent): void {
  if (state.seenEventIds.includes(event.id) || state.ending || state.status !== 'running') return;
  state.seenEventIds.push(event.id);
  if (state.seenEventIds.length > SEEN_KEPT) state.seenEventIds.splice(0, state.seenEventIds.length - SEEN_KEPT);
  const facts = { contact: event.contact, event: { name: event.name, properties: event.properties } };
  const goal = definition.goal;
  if (goal && goal.event === event.name && (!goal.condition || evaluate(goal.condition, facts))) {
    state.ending = { status: 'converted', reason: `goal event "${event.name}"`, eventId: event.id };
    return;
  }
  const exit = definition.exits.find((e) => e.event === event.name && (!e.condition || evaluate(e.condition, facts)));
  if (exit) {
    state.ending = { status: 'exited', reason: exit.reason ?? `exit event "${event.name}"`, eventId: event.id };
    return;
  }
  state.inbox.push(event);
  if (state.inbox.length > INBOX_KEPT) state.inbox.splice(0, state.inbox.length - INBOX_KEPT);
}

import { patched } from '@temporalio/workflow';
import { evaluate } from '../journey-language/interpreter';
import type { Condition, JourneyDefinition } from '../journey-language';
import { local } from './activities';
import type { EnrolmentEnd, EnrolmentState, JourneyEvent } from './contract';
import { EVENT_FACTS_BY_ID_PATCH, SEGMENT_AND_STATE_RULES_PATCH } from './patches';
import { CONTACT_CHANGED_EVENT, SEGMENT_LEFT_EVENT } from './contract';

const SEEN_KEPT = 200;
const INBOX_KEPT = 100;

/** Whether an event came with its facts (properties, a contact snapshot), as every event did before EVENT_FACTS_BY_ID_PATCH. */
export function carriesFacts(event: JourneyEvent): boolean {
  return event.properties !== undefined || event.contact !== undefined;
}

/** What the conditions of an event that carries its facts read. */
export function factsOf(event: JourneyEvent) {
  return { contact: event.contact, event: { name: event.name, properties: event.properties ?? {} } };
}

/**
 * Which of `conditions` holds first for an event that came without its facts (-1: none; an
 * absent condition always holds): the local activity `matchEventConditions` reads the event and
 * the contact where they live and answers with an index, so neither enters the history. Only
 * the conditions before the first absent one are asked; none asked, no activity.
 */
export async function firstHoldingById(
  enrolment: { contactId: string; enrolmentId: string }, event: JourneyEvent, conditions: Array<Condition | undefined>,
): Promise<number> {
  const always = conditions.findIndex((c) => c === undefined);
  const asked = (always >= 0 ? conditions.slice(0, always) : conditions) as Condition[];
  if (asked.length === 0) return always;
  // Never false for such an event (it came after the change); the old path then decided on no facts.
  if (!patched(EVENT_FACTS_BY_ID_PATCH)) return conditions.findIndex((c) => c === undefined || evaluate(c, factsOf(event)));
  const { index } = await local.matchEventConditions.executeWithOptions(
    { summary: `Decide ${asked.length} condition(s) on event "${event.name}"` }, [{ eventId: event.id, contactId: enrolment.contactId, enrolmentId: enrolment.enrolmentId, conditions: asked }],
  );
  return index >= 0 ? index : always;
}

/** The goal, then the exits, that this event would end the enrolment with, each with its condition. */
function endingRules(definition: JourneyDefinition, event: JourneyEvent): Array<{ condition?: Condition; end: EnrolmentEnd }> {
  const { goal } = definition;
  const rules: Array<{ condition?: Condition; end: EnrolmentEnd }> = [];
  if (goal?.event !== undefined && goal.event === event.name) {
    rules.push({ condition: goal.condition, end: { status: 'converted', reason: `goal event "${event.name}"`, eventId: event.id } });
  }
  const stateRules = event.name === CONTACT_CHANGED_EVENT || event.name === SEGMENT_LEFT_EVENT ? stateAndSegmentRules(definition, event) : [];
  if (stateRules.length && !stateRules[0]!.exit) rules.push(stateRules.shift()!);
  for (const exit of definition.exits) {
    if ('event' in exit && exit.event === event.name) {
      rules.push({ condition: exit.condition, end: { status: 'exited', reason: exit.reason ?? `exit event "${event.name}"`, eventId: event.id } });
    }
  }
  return [...rules, ...stateRules];
}

/**
 * A state goal (a goal with a condition and no event) and state exits, on `contact.changed`; a
 * `segmentLeft` exit, on `segment.left` of its segment (decided over the event's properties).
 * Only definitions published since SEGMENT_AND_STATE_RULES_PATCH have them, and only these events
 * ask for the patch, so an older run's history never meets it.
 */
function stateAndSegmentRules(definition: JourneyDefinition, event: JourneyEvent): Array<{ condition?: Condition; end: EnrolmentEnd; exit: boolean }> {
  const { goal } = definition;
  const rules: Array<{ condition?: Condition; end: EnrolmentEnd; exit: boolean }> = [];
  const changed = event.name === CONTACT_CHANGED_EVENT;
  if (changed && goal && goal.event === undefined && goal.condition) {
    rules.push({ condition: goal.condition, end: { status: 'converted', reason: 'goal state reached', eventId: event.id }, exit: false });
  }
  for (const exit of definition.exits) {
    if (changed && !('event' in exit) && !('segmentLeft' in exit)) {
      rules.push({ condition: exit.condition, end: { status: 'exited', reason: exit.reason ?? 'exit state reached', eventId: event.id }, exit: true });
    }
    if (!changed && 'segmentLeft' in exit) {
      rules.push({
        condition: { field: 'event.properties.segment', op: 'eq', value: exit.segmentLeft },
        end: { status: 'exited', reason: exit.reason ?? `left segment "${exit.segmentLeft}"`, eventId: event.id }, exit: true,
      });
    }
  }
  return rules.length && patched(SEGMENT_AND_STATE_RULES_PATCH) ? rules : [];
}

/**
 * Takes the events delivered to one enrolment: a goal event ends it as converted, an exit event
 * ends it early; any other event goes to the inbox for a wait_for_event step. Idempotent by id.
 * An event that carries its facts is decided at once, as before EVENT_FACTS_BY_ID_PATCH; one
 * that does not is decided in turn, in the order events arrived (a condition over its facts
 * takes a local activity), and the journey loop waits for the desk to be idle before each step.
 */
export class EventDesk {
  private queue: Promise<void> = Promise.resolve();
  private deciding = 0;

  constructor(
    private readonly definition: JourneyDefinition, private readonly state: EnrolmentState,
    private readonly enrolment: { contactId: string; enrolmentId: string },
  ) {}

  /** No event is being decided. */
  get idle(): boolean {
    return this.deciding === 0;
  }

  /** The `journeyEvent` signal's handler. */
  receive(event: JourneyEvent): Promise<void> | undefined {
    const { state } = this;
    if (state.seenEventIds.includes(event.id) || state.ending || state.status !== 'running') return undefined;
    state.seenEventIds.push(event.id);
    if (state.seenEventIds.length > SEEN_KEPT) state.seenEventIds.splice(0, state.seenEventIds.length - SEEN_KEPT);
    const rules = endingRules(this.definition, event);
    if (carriesFacts(event)) {
      const facts = factsOf(event);
      this.settle(event, rules.find((r) => !r.condition || evaluate(r.condition, facts))?.end);
      return undefined;
    }
    this.deciding += 1;
    const decided = this.queue.then(async () => {
      const index = await firstHoldingById(this.enrolment, event, rules.map((r) => r.condition));
      // Ended while it was decided (another event, a cancel): it is dropped, as it would have been on arrival.
      if (!state.ending && state.status === 'running') this.settle(event, rules[index]?.end);
    }).finally(() => { this.deciding -= 1; });
    this.queue = decided.catch(() => undefined);
    return decided;
  }

  private settle(event: JourneyEvent, end: EnrolmentEnd | undefined): void {
    if (end) {
      this.state.ending = end;
      return;
    }
    this.state.inbox.push(event);
    if (this.state.inbox.length > INBOX_KEPT) this.state.inbox.splice(0, this.state.inbox.length - INBOX_KEPT);
  }
}

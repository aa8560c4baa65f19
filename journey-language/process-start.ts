import { z } from 'zod';
import { ConditionSchema } from './condition-schema';
import { evaluate } from './conditions';
import type { FormField } from './definition';
import { conditionReads } from './process-run';
import { EventNameSchema } from './steps';

/**
 * A process's event start (`startOn`, docs/processes.md): an event POST /v1/events ingests under
 * this name starts a run, its inputs mapped from the event. The event's properties are untrusted
 * data: a mapping only copies a value from one path to an input, and the run's input schema
 * checks the result like any other start.
 */
export const EventInputPathSchema = z.string()
  .regex(/^(event\.(id|name|occurredAt|properties(\.[A-Za-z0-9_-]{1,64}){1,5})|contact\.id)$/,
    'an event input reads "event.properties.<name>" (up to 5 levels), "event.id", "event.name", "event.occurredAt" or "contact.id"');

export const ProcessStartOnSchema = z.object({
  event: EventNameSchema.describe('the event name that starts a run'),
  inputs: z.record(z.string(), EventInputPathSchema).default({})
    .describe('each input of the run (by name) and the event path its value is copied from'),
  condition: ConditionSchema.optional().describe('starts a run only when true: over event.name and event.properties.*'),
}).strict().meta({ id: 'ProcessStartOn' });
export type ProcessStartOn = z.infer<typeof ProcessStartOnSchema>;

/** Processes one event name starts at most: one event does a bounded amount of work. */
export const MAX_PROCESSES_PER_EVENT = 10;

/** The event at hand, as a mapping reads it. */
export interface StartingEvent {
  id: string;
  name: string;
  occurredAt: string;
  properties: Record<string, unknown>;
  contactId: string;
}

/** Problems with a definition's `startOn`, each with its path under `startOn` (checked at publish). */
export function startOnProblems(startOn: ProcessStartOn, inputs: FormField[]): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  const declared = new Set(inputs.map((f) => f.name));
  for (const name of Object.keys(startOn.inputs)) {
    if (!declared.has(name)) problems.push({ path: ['inputs', name], message: `"${name}" is not one of the process's inputs` });
  }
  for (const field of inputs) {
    if (field.required && !(field.name in startOn.inputs)) problems.push({ path: ['inputs'], message: `the required input "${field.name}" is not mapped from the event` });
  }
  if (startOn.condition) {
    const reads = conditionReads(startOn.condition);
    const outside = reads.paths.filter((p) => p !== 'event.name' && !p.startsWith('event.properties.'));
    if (reads.contactFacts || outside.length) problems.push({ path: ['condition'], message: 'a start condition reads event.name and event.properties.* only' });
  }
  return problems;
}

/** Whether the event starts a run: its name, and the condition if there is one. */
export function eventStarts(startOn: ProcessStartOn, event: StartingEvent): boolean {
  if (startOn.event !== event.name) return false;
  return !startOn.condition || evaluate(startOn.condition, { event: { name: event.name, properties: event.properties } });
}

/** The run's inputs copied from the event; a path the event does not have gives no input (required inputs then fail validation). */
export function eventInputs(startOn: ProcessStartOn, event: StartingEvent): Record<string, unknown> {
  const inputs: Record<string, unknown> = {};
  for (const [name, path] of Object.entries(startOn.inputs)) {
    const value = readEventPath(event, path);
    if (value !== undefined) inputs[name] = value;
  }
  return inputs;
}

function readEventPath(event: StartingEvent, path: string): unknown {
  if (path === 'contact.id') return event.contactId;
  const [, field, ...rest] = path.split('.');
  if (field !== 'properties') return event[field as 'id' | 'name' | 'occurredAt'];
  let value: unknown = event.properties;
  for (const key of rest) {
    // Own properties only: an untrusted "__proto__" or "constructor" reads nothing.
    if (value === null || typeof value !== 'object' || Array.isArray(value) || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

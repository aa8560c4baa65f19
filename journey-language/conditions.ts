import type { Condition } from './condition-schema';

/** What a condition is evaluated against. Pure data: the evaluator does no I/O. */
export interface Facts {
  contact?: Record<string, unknown> & { tags?: string[] };
  event?: { name: string; properties: Record<string, unknown> };
  /** The event that started the enrolment (journeys with an event trigger): `trigger.name`, `trigger.properties.*`. */
  trigger?: { name: string; properties: Record<string, unknown>; occurredAt?: string };
  /** Decisions of this enrolment's approval steps: `approval.<step>.decision`, `.values.<field>`. */
  approval?: Record<string, { decision: string; values: Record<string, unknown>; decidedBy: string }>;
  /** Email steps of this enrolment that were opened / clicked. */
  engagement?: Record<string, { opened?: boolean; clicked?: boolean }>;
  /** A process run's inputs: `run.inputs.<name>` (docs/processes.md). */
  run?: { inputs: Record<string, unknown> };
  /** A process run's finished tasks: `task.<task>.status`, `.decision`, `.values.<field>`. */
  task?: Record<string, { status: string; decision?: string; values: Record<string, unknown> }>;
}

/**
 * Evaluates a condition. Deterministic and side-effect free, so the workflow runs it directly,
 * and the API uses the same code for triggers.
 */
export function evaluate(condition: Condition, facts: Facts): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluate(c, facts));
  if ('any' in condition) return condition.any.some((c) => evaluate(c, facts));
  if ('not' in condition) return !evaluate(condition.not, facts);
  if ('tag' in condition) return (facts.contact?.tags ?? []).includes(condition.tag);
  if ('engagement' in condition) {
    return Boolean(facts.engagement?.[condition.engagement.step]?.[condition.engagement.action]);
  }
  return compare(read(facts, condition.field), condition.op, condition.value);
}

/** Whether a condition looks at email engagement (so its facts must include it). */
export function readsEngagement(condition: Condition): boolean {
  if ('all' in condition) return condition.all.some(readsEngagement);
  if ('any' in condition) return condition.any.some(readsEngagement);
  if ('not' in condition) return readsEngagement(condition.not);
  return 'engagement' in condition;
}

function read(facts: Facts, path: string): unknown {
  const [root, ...rest] = path.split('.');
  const roots: Record<string, unknown> = {
    contact: facts.contact, event: facts.event, trigger: facts.trigger, approval: facts.approval, run: facts.run, task: facts.task,
  };
  let value: unknown = Object.hasOwn(roots, root!) ? roots[root!] : undefined;
  for (const key of rest) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function compare(actual: unknown, op: string, expected: unknown): boolean {
  switch (op) {
    case 'exists': return actual !== undefined && actual !== null;
    case 'not_exists': return actual === undefined || actual === null;
    case 'eq': return equal(actual, expected);
    case 'neq': return !equal(actual, expected);
    case 'gt': return ordered(actual, expected, (a, b) => a > b);
    case 'gte': return ordered(actual, expected, (a, b) => a >= b);
    case 'lt': return ordered(actual, expected, (a, b) => a < b);
    case 'lte': return ordered(actual, expected, (a, b) => a <= b);
    case 'in': return Array.isArray(expected) && expected.some((e) => equal(actual, e));
    case 'not_in': return Array.isArray(expected) && !expected.some((e) => equal(actual, e));
    case 'contains':
      if (Array.isArray(actual)) return actual.some((a) => equal(a, expected));
      return typeof actual === 'string' && typeof expected === 'string' && actual.toLowerCase().includes(expected.toLowerCase());
    case 'starts_with':
      return typeof actual === 'string' && typeof expected === 'string' && actual.toLowerCase().startsWith(expected.toLowerCase());
    default: return false;
  }
}

/** Strings compare case-insensitively; a numeric string equals its number. */
function equal(a: unknown, b: unknown): boolean {
  if (typeof a === 'string' && typeof b === 'string') return a.toLowerCase() === b.toLowerCase();
  if (typeof a === 'number' || typeof b === 'number') return a !== null && b !== null && a !== '' && b !== '' && Number(a) === Number(b);
  return a === b;
}

function ordered(a: unknown, b: unknown, cmp: (x: number | string, y: number | string) => boolean): boolean {
  const x = toComparable(a);
  const y = toComparable(b);
  if (x === undefined || y === undefined || typeof x !== typeof y) return false;
  return cmp(x, y);
}

/** Numbers (and numeric strings) compare as numbers; ISO dates compare as instants. */
function toComparable(v: unknown): number | string | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'string') {
    if (v.trim() !== '' && !Number.isNaN(Number(v))) return Number(v);
    if (/^\d{4}-\d{2}-\d{2}/.test(v) && !Number.isNaN(Date.parse(v))) return Date.parse(v);
    return v;
  }
  return undefined;
}

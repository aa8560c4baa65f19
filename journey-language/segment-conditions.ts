import { z } from 'zod';
import { ComparisonSchema, conditionDepth, ConditionSchema, MAX_CONDITION_DEPTH, TagConditionSchema, type Condition } from './condition-schema';
import { evaluate } from './conditions';
import { durationToMs } from './durations';
import { DurationSchema, EventNameSchema } from './steps';

/**
 * A segment's condition: the journey language's contact conditions (`all`, `any`, `not`,
 * comparisons over `contact.*`, tags) plus what only a saved segment looks at:
 * - relative time: `{ "field": "contact.lastSeenAt", "olderThan": "30d" }` (or `withinLast`);
 * - event history: `{ "did": { "event": "pricing_page_visit", "within": "7d", "atLeast": 1 } }`;
 * - engagement counts: `{ "emails": { "action": "opened", "atLeast": 2, "ofLast": 5 } }`.
 * Evaluation is pure: the caller passes the facts and `now`.
 */

/** A segment key names it in events (`segment.entered`) and journeys (`trigger.segment`, `exits[].segmentLeft`). */
export const SegmentKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a segment key is 1-64 lowercase letters, digits, "_" or "-"');

/** Emails counted back at most (`ofLast`), and events counted per name at most (`atLeast`). */
export const MAX_EMAILS_COUNTED = 100;
export const MAX_EVENTS_COUNTED = 1_000;

const ContactFieldPath = ComparisonSchema.shape.field.refine((f) => f.startsWith('contact.'), 'a segment reads contact fields: "contact.…"');

export const RelativeTimeSchema = z.object({
  field: ContactFieldPath.describe('a date: "contact.lastSeenAt" (the latest event), "contact.createdAt", "contact.attributes.trialEndsAt", …'),
  olderThan: DurationSchema.optional().describe('the date is more than this long before now'),
  withinLast: DurationSchema.optional().describe('the date is at most this long before now (and not after it)'),
}).strict().refine((c) => (c.olderThan === undefined) !== (c.withinLast === undefined), { message: 'give exactly one of olderThan or withinLast', path: ['olderThan'] });

export const EventHistorySchema = z.object({
  did: z.object({
    event: EventNameSchema,
    within: DurationSchema.optional().describe('only events that occurred this long before now at most (all when absent)'),
    atLeast: z.number().int().min(1).max(MAX_EVENTS_COUNTED).default(1),
    where: ConditionSchema.optional().describe('over event.properties.*'),
  }).strict(),
}).strict();

export const EmailEngagementCountSchema = z.object({
  emails: z.object({
    action: z.enum(['opened', 'clicked']),
    atLeast: z.number().int().min(1).max(MAX_EMAILS_COUNTED),
    ofLast: z.number().int().min(1).max(MAX_EMAILS_COUNTED).describe('of the last n marketing emails sent to the contact'),
  }).strict().refine((e) => e.atLeast <= e.ofLast, { message: 'atLeast is at most ofLast', path: ['atLeast'] }),
}).strict();

export type SegmentCondition =
  | { all: SegmentCondition[] }
  | { any: SegmentCondition[] }
  | { not: SegmentCondition }
  | z.infer<typeof ComparisonSchema>
  | z.infer<typeof TagConditionSchema>
  | z.infer<typeof RelativeTimeSchema>
  | z.infer<typeof EventHistorySchema>
  | z.infer<typeof EmailEngagementCountSchema>;

const SegmentComparisonSchema = ComparisonSchema.refine((c) => c.field.startsWith('contact.'), { message: 'a segment reads contact fields: "contact.…"', path: ['field'] });

export const SegmentConditionSchema: z.ZodType<SegmentCondition> = z.lazy(() => z.preprocess((value, ctx) => {
  if (conditionDepth(value) > MAX_CONDITION_DEPTH) ctx.addIssue({ code: 'custom', message: `conditions nest at most ${MAX_CONDITION_DEPTH} deep (all, any, not)` });
  return value;
}, z.union([
  z.object({ all: z.array(SegmentConditionSchema).min(1).max(50) }).strict(),
  z.object({ any: z.array(SegmentConditionSchema).min(1).max(50) }).strict(),
  z.object({ not: SegmentConditionSchema }).strict(),
  RelativeTimeSchema,
  SegmentComparisonSchema,
  TagConditionSchema.strict(),
  EventHistorySchema,
  EmailEngagementCountSchema,
]))).meta({ id: 'SegmentCondition' }) as z.ZodType<SegmentCondition>;

/** What a segment condition is evaluated against: pure data, newest first; `now` in epoch ms. */
export interface SegmentFacts {
  now: number;
  /** The contact as conditions see it, with `lastSeenAt` (its latest event, ISO) when known. */
  contact: Record<string, unknown> & { tags?: string[] };
  /** The contact's events of the names the condition reads, newest first. */
  events?: Array<{ name: string; occurredAt: string; properties: Record<string, unknown> }>;
  /** The last marketing emails sent to the contact, newest first. */
  emails?: Array<{ opened: boolean; clicked: boolean }>;
}

/** Whether a contact belongs to the segment. Deterministic: time is `facts.now`. */
export function evaluateSegment(condition: SegmentCondition, facts: SegmentFacts): boolean {
  if ('all' in condition) return condition.all.every((c) => evaluateSegment(c, facts));
  if ('any' in condition) return condition.any.some((c) => evaluateSegment(c, facts));
  if ('not' in condition) return !evaluateSegment(condition.not, facts);
  if ('olderThan' in condition || 'withinLast' in condition) return relativeTime(condition as z.infer<typeof RelativeTimeSchema>, facts);
  if ('did' in condition) {
    const { event, within, atLeast = 1, where } = condition.did;
    const since = within === undefined ? -Infinity : facts.now - (durationToMs(within) ?? 0);
    const matching = (facts.events ?? []).filter((e) => e.name === event && Date.parse(e.occurredAt) >= since
      && (!where || evaluate(where, { contact: facts.contact, event: { name: e.name, properties: e.properties } })));
    return matching.length >= atLeast;
  }
  if ('emails' in condition) {
    const { action, atLeast, ofLast } = condition.emails;
    return (facts.emails ?? []).slice(0, ofLast).filter((e) => (action === 'opened' ? e.opened || e.clicked : e.clicked)).length >= atLeast;
  }
  return evaluate(condition as Condition, { contact: facts.contact });
}

function relativeTime(condition: z.infer<typeof RelativeTimeSchema>, facts: SegmentFacts): boolean {
  const value = read(facts.contact, condition.field.split('.').slice(1));
  const at = typeof value === 'string' ? Date.parse(value) : typeof value === 'number' ? value : Number.NaN;
  if (Number.isNaN(at)) return false;
  if (condition.olderThan !== undefined) return at < facts.now - (durationToMs(condition.olderThan) ?? 0);
  return at <= facts.now && at >= facts.now - (durationToMs(condition.withinLast!) ?? 0);
}

function read(value: unknown, path: string[]): unknown {
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

/** What a segment condition needs loaded besides the contact. */
export interface SegmentNeeds {
  /** Event names it counts, with the widest window (undefined: all time). */
  events: Map<string, number | undefined>;
  /** How many of the latest emails it looks at (0: none). */
  emails: number;
  /** Whether it reads `contact.lastSeenAt`. */
  lastSeen: boolean;
  /** Whether membership can change with time alone (relative time, event windows): re-evaluated on a schedule. */
  timeRelative: boolean;
}

export function segmentNeeds(conditions: SegmentCondition[]): SegmentNeeds {
  const needs: SegmentNeeds = { events: new Map(), emails: 0, lastSeen: false, timeRelative: false };
  const walk = (c: SegmentCondition): void => {
    if ('all' in c) return c.all.forEach(walk);
    if ('any' in c) return c.any.forEach(walk);
    if ('not' in c) return walk(c.not);
    if ('field' in c && c.field === 'contact.lastSeenAt') needs.lastSeen = true;
    if ('olderThan' in c || 'withinLast' in c) needs.timeRelative = true;
    if ('did' in c) {
      const window = c.did.within === undefined ? undefined : durationToMs(c.did.within);
      const known = needs.events.has(c.did.event) ? needs.events.get(c.did.event) : 0;
      needs.events.set(c.did.event, window === undefined || known === undefined ? undefined : Math.max(known, window));
      if (window !== undefined) needs.timeRelative = true;
    }
    if ('emails' in c) needs.emails = Math.max(needs.emails, c.emails.ofLast);
  };
  conditions.forEach(walk);
  return needs;
}

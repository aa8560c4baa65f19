import { z } from 'zod';

/**
 * Conditions of the journey language: all / any / not over comparisons of contact fields,
 * event properties, tags, score, and engagement with an earlier email step of the enrolment.
 * Field paths: `contact.email`, `contact.score`, `contact.lifecycleStage`, `contact.attributes.plan`,
 * `event.name`, `event.properties.amount`, ... (the `event.` ones only where an event is at hand),
 * `trigger.name`, `trigger.properties.ebook` (the event that started the enrolment: event triggers only).
 */
export const COMPARISON_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'not_exists'] as const;

export const FieldPathSchema = z.string()
  .regex(/^(contact|event|trigger|approval|run|task)(\.[A-Za-z0-9_-]+)+$/, 'a field path starts with "contact.", "event.", "trigger." or "approval.<step>." (in a process: "run.inputs." or "task.<task>."), e.g. "contact.attributes.plan"');

/** Values of an `in` / `not_in` list at most (a longer list belongs in a tag or a segment). */
export const MAX_CONDITION_LIST = 1_000;

export const ComparisonSchema = z.object({
  field: FieldPathSchema,
  op: z.enum(COMPARISON_OPS),
  value: z.unknown().optional(),
}).superRefine((c, ctx) => {
  const needsValue = c.op !== 'exists' && c.op !== 'not_exists';
  if (needsValue && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" needs a value` });
  if ((c.op === 'in' || c.op === 'not_in') && !Array.isArray(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" needs a list` });
  if (Array.isArray(c.value) && c.value.length > MAX_CONDITION_LIST) ctx.addIssue({ code: 'custom', path: ['value'], message: `a list has at most ${MAX_CONDITION_LIST} values` });
});

export const TagConditionSchema = z.object({ tag: z.string().min(1).max(100).describe('the contact has this tag') });

export const EngagementConditionSchema = z.object({
  engagement: z.object({
    step: z.string().min(1).describe('an earlier send_email step of the same journey'),
    action: z.enum(['opened', 'clicked']),
  }),
});

export type Condition =
  | { all: Condition[] }
  | { any: Condition[] }
  | { not: Condition }
  | z.infer<typeof ComparisonSchema>
  | z.infer<typeof TagConditionSchema>
  | z.infer<typeof EngagementConditionSchema>;

/**
 * all / any / not nest at most this deep. Deeper is unreadable, and every walk over a condition
 * (validation, the evaluator in the workflow) recurses, so unbounded nesting could exhaust a stack.
 */
export const MAX_CONDITION_DEPTH = 10;

/**
 * How deep all / any / not nest in a raw value, looking no further than `limit` levels down, so
 * hostile nesting costs no more than a legal condition (and no recursion past the limit).
 */
export function conditionDepth(value: unknown, limit = MAX_CONDITION_DEPTH + 1): number {
  if (limit <= 0 || value === null || typeof value !== 'object' || Array.isArray(value)) return 0;
  const v = value as { all?: unknown; any?: unknown; not?: unknown };
  if (!('all' in v) && !('any' in v) && !('not' in v)) return 0;
  let deepest = 0;
  for (const child of [v.all, v.any].flatMap((list) => (Array.isArray(list) ? list : [])).concat('not' in v ? [v.not] : [])) {
    deepest = Math.max(deepest, conditionDepth(child, limit - 1));
  }
  return 1 + deepest;
}

// The depth is checked before the union parses (and recurses into) the value.
export const ConditionSchema: z.ZodType<Condition> = z.lazy(() => z.preprocess((value, ctx) => {
  if (conditionDepth(value) > MAX_CONDITION_DEPTH) ctx.addIssue({ code: 'custom', message: `conditions nest at most ${MAX_CONDITION_DEPTH} deep (all, any, not)` });
  return value;
}, z.union([
  z.object({ all: z.array(ConditionSchema).min(1).max(50) }).strict(),
  z.object({ any: z.array(ConditionSchema).min(1).max(50) }).strict(),
  z.object({ not: ConditionSchema }).strict(),
  ComparisonSchema,
  TagConditionSchema.strict(),
  EngagementConditionSchema.strict(),
]))).meta({ id: 'Condition' });

/** Every engagement step a condition refers to (validation checks they are email steps). */
export function engagementSteps(condition: Condition | undefined): string[] {
  if (!condition) return [];
  if ('all' in condition) return condition.all.flatMap(engagementSteps);
  if ('any' in condition) return condition.any.flatMap(engagementSteps);
  if ('not' in condition) return engagementSteps(condition.not);
  if ('engagement' in condition) return [condition.engagement.step];
  return [];
}

/** Whether a condition reads fields under `root.` (`event`, `trigger`): each only where it exists. */
export function readsRoot(condition: Condition | undefined, root: 'event' | 'trigger'): boolean {
  if (!condition) return false;
  if ('all' in condition) return condition.all.some((c) => readsRoot(c, root));
  if ('any' in condition) return condition.any.some((c) => readsRoot(c, root));
  if ('not' in condition) return readsRoot(condition.not, root);
  return 'field' in condition && condition.field.startsWith(`${root}.`);
}

/** Whether a condition reads the event (only allowed where an event is at hand). */
export const readsEvent = (condition: Condition | undefined): boolean => readsRoot(condition, 'event');

/** Whether a condition reads the event that started the enrolment (only in journeys with an event trigger). */
export const readsTrigger = (condition: Condition | undefined): boolean => readsRoot(condition, 'trigger');

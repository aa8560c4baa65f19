import { z } from 'zod';

/**
 * Conditions of the journey language: all / any / not over comparisons of contact fields,
 * event properties, tags, score, and engagement with an earlier email step of the enrolment.
 * Field paths: `contact.email`, `contact.score`, `contact.lifecycleStage`, `contact.attributes.plan`,
 * `event.name`, `event.properties.amount`, ... (the `event.` ones only where an event is at hand).
 */
export const COMPARISON_OPS = ['eq', 'neq', 'gt', 'gte', 'lt', 'lte', 'in', 'not_in', 'contains', 'starts_with', 'exists', 'not_exists'] as const;

export const FieldPathSchema = z.string()
  .regex(/^(contact|event|approval)(\.[A-Za-z0-9_-]+)+$/, 'a field path starts with "contact.", "event." or "approval.<step>.", e.g. "contact.attributes.plan"');

export const ComparisonSchema = z.object({
  field: FieldPathSchema,
  op: z.enum(COMPARISON_OPS),
  value: z.unknown().optional(),
}).superRefine((c, ctx) => {
  const needsValue = c.op !== 'exists' && c.op !== 'not_exists';
  if (needsValue && c.value === undefined) ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" needs a value` });
  if ((c.op === 'in' || c.op === 'not_in') && !Array.isArray(c.value)) ctx.addIssue({ code: 'custom', path: ['value'], message: `"${c.op}" needs a list` });
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

export const ConditionSchema: z.ZodType<Condition> = z.lazy(() => z.union([
  z.object({ all: z.array(ConditionSchema).min(1).max(50) }).strict(),
  z.object({ any: z.array(ConditionSchema).min(1).max(50) }).strict(),
  z.object({ not: ConditionSchema }).strict(),
  ComparisonSchema,
  TagConditionSchema.strict(),
  EngagementConditionSchema.strict(),
])).meta({ id: 'Condition' });

/** Every engagement step a condition refers to (validation checks they are email steps). */
export function engagementSteps(condition: Condition | undefined): string[] {
  if (!condition) return [];
  if ('all' in condition) return condition.all.flatMap(engagementSteps);
  if ('any' in condition) return condition.any.flatMap(engagementSteps);
  if ('not' in condition) return engagementSteps(condition.not);
  if ('engagement' in condition) return [condition.engagement.step];
  return [];
}

/** Whether a condition reads the event (only allowed where an event is at hand). */
export function readsEvent(condition: Condition | undefined): boolean {
  if (!condition) return false;
  if ('all' in condition) return condition.all.some(readsEvent);
  if ('any' in condition) return condition.any.some(readsEvent);
  if ('not' in condition) return readsEvent(condition.not);
  return 'field' in condition && condition.field.startsWith('event.');
}

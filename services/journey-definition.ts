import { z } from 'zod';
import { ContactFieldsSchema, TagSchema } from './contact-schema';
import { DURATION_PATTERN, durationToMs } from './durations';
import { templateProblem } from './templates';

/**
 * The journey language: a versioned JSON definition, validated here. This file is the single
 * source of the definition's types (workflows import them as types), its validation and its
 * OpenAPI schema. Steps form a graph through `next`; the first step is where enrolments start.
 */
export const StepIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a step id is 1-64 letters, digits, "_" or "-"');
const next = StepIdSchema.optional().describe('the step that follows; absent ends the enrolment');
const stepBase = { id: StepIdSchema, name: z.string().max(200).optional() };

export const DurationSchema = z.string().trim()
  .regex(DURATION_PATTERN, 'a duration is a number and a unit: "30s", "15m", "2h", "3d" or "1w"')
  .refine((d) => (durationToMs(d) ?? 0) <= 366 * 86_400_000, 'a duration is at most a year');

const template = (what: string, max = 100_000) => z.string().min(1).max(max).superRefine((source, ctx) => {
  const problem = templateProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
});

export const SendEmailStepSchema = z.object({
  ...stepBase,
  type: z.literal('send_email'),
  subject: template('subject', 998),
  text: template('text'),
  html: template('html').optional(),
  next,
});

export const WaitStepSchema = z.object({
  ...stepBase,
  type: z.literal('wait'),
  duration: DurationSchema,
  next,
});

export const UpdateContactStepSchema = z.object({
  ...stepBase,
  type: z.literal('update_contact'),
  set: ContactFieldsSchema.optional(),
  addTags: z.array(TagSchema).max(50).optional(),
  removeTags: z.array(TagSchema).max(50).optional(),
  scoreDelta: z.number().int().optional(),
  next,
});

export const ExitStepSchema = z.object({
  ...stepBase,
  type: z.literal('exit'),
  reason: z.string().min(1).max(200).default('exit step'),
});

export const StepSchema = z.discriminatedUnion('type', [
  SendEmailStepSchema, WaitStepSchema, UpdateContactStepSchema, ExitStepSchema,
]);

export const TriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('api') }),
]);

export const EntryRulesSchema = z.object({
  reentry: z.enum(['once', 'after_exit', 'always']).default('once')
    .describe('once ever; again after the previous enrolment ended; or always'),
});

export const JourneyDefinitionSchema = z.object({
  trigger: TriggerSchema.default({ type: 'api' }),
  entry: EntryRulesSchema.default({ reentry: 'once' }),
  steps: z.array(StepSchema).min(1).max(500),
  // Runs even when a step is malformed, so every problem is reported at once.
}).superRefine((def, ctx) => checkStepGraph(def, ctx), { when: () => true });

export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];
export type SendEmailStep = z.infer<typeof SendEmailStepSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;
export type UpdateContactStep = z.infer<typeof UpdateContactStepSchema>;
export type ExitStep = z.infer<typeof ExitStepSchema>;
export type JourneyDefinition = z.infer<typeof JourneyDefinitionSchema>;
export type JourneyDefinitionInput = z.input<typeof JourneyDefinitionSchema>;

/** The ids a step can go to next. Exhaustive: a new step type must say where it leads. */
export function successors(step: Step): string[] {
  switch (step.type) {
    case 'send_email':
    case 'wait':
    case 'update_contact':
      return step.next ? [step.next] : [];
    case 'exit':
      return [];
    default:
      assertNever(step, false);
      // A malformed step (validation reports it) still leads where its `next` says.
      return typeof (step as { next?: unknown }).next === 'string' ? [(step as { next: string }).next] : [];
  }
}

/** Steps that pause the enrolment; a loop must pass through one. */
function isPause(step: Step): boolean {
  return step.type === 'wait';
}

/** Steps as far as they can be read: a malformed one still has its id and next checked. */
function readableSteps(def: unknown): Step[] {
  const steps = (def as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.map((raw, i) => {
    const step = (raw ?? {}) as { id?: unknown; next?: unknown };
    const id = typeof step.id === 'string' ? step.id : `#${i}`;
    const next = typeof step.next === 'string' ? step.next : undefined;
    return { ...(raw as object), id, next } as Step;
  });
}

function checkStepGraph(raw: unknown, ctx: z.RefinementCtx): void {
  const def = { steps: readableSteps(raw) };
  if (!def.steps.length) return;
  const index = new Map<string, number>();
  def.steps.forEach((step, i) => {
    if (index.has(step.id)) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `step "${step.id}": the id is used twice` });
    } else index.set(step.id, i);
  });
  def.steps.forEach((step, i) => {
    if ('next' in step && step.next !== undefined && !index.has(step.next)) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, 'next'], message: `step "${step.id}": next step "${step.next}" does not exist` });
    }
  });
  const byId = new Map(def.steps.map((s) => [s.id, s]));
  const reachable = new Set<string>();
  const queue = def.steps[0] ? [def.steps[0].id] : [];
  while (queue.length) {
    const id = queue.pop()!;
    if (reachable.has(id) || !byId.has(id)) continue;
    reachable.add(id);
    queue.push(...successors(byId.get(id)!));
  }
  def.steps.forEach((step, i) => {
    if (!reachable.has(step.id)) {
      ctx.addIssue({ code: 'custom', path: ['steps', i], message: `step "${step.id}": unreachable from the first step "${def.steps[0]!.id}"` });
    }
  });
  const loop = findLoopWithoutPause(byId);
  if (loop) {
    ctx.addIssue({
      code: 'custom', path: ['steps', index.get(loop[0]!)!, 'next'],
      message: `step "${loop[0]}": the loop ${loop.join(' → ')} has no wait in it`,
    });
  }
}

/** A cycle of steps none of which pauses, as a list of ids, or undefined. */
function findLoopWithoutPause(byId: Map<string, Step>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const step = byId.get(id);
    if (!step || isPause(step) || state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'open');
    stack.push(id);
    for (const nextId of successors(step)) {
      const loop = visit(nextId);
      if (loop) return loop;
    }
    stack.pop();
    state.set(id, 'done');
    return undefined;
  };
  for (const id of byId.keys()) {
    const loop = visit(id);
    if (loop) return loop;
  }
  return undefined;
}

/** Compile-time exhaustiveness; throws at run time unless told the value may be malformed data. */
export function assertNever(value: never, strict = true): void {
  if (strict) throw new Error(`Unhandled case: ${JSON.stringify(value)}`);
}

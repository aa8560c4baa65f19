import { z } from 'zod';
import { ConditionSchema, engagementSteps, readsEvent, readsTrigger, type Condition } from './condition-schema';
import { nameProblems } from './names-in-scope';
import { TimeZoneSchema } from './contact-fields';
import { conditionReads } from './process-run';
import { SegmentKeySchema } from './segment-conditions';
import { DurationSchema, EventNameSchema, exits, pauses, SendingWindowSchema, sleeplessWait, StepSchema, WhenCappedSchema, type Step } from './steps';

export * from './steps';

/**
 * The journey language: a versioned JSON definition of a trigger, entry rules, a goal, exit
 * events and steps. This file is the single source of the definition's types (workflows import
 * them as types), its validation and its OpenAPI schema. Steps form a graph through their `next`
 * fields; the first step is where enrolments start.
 */
export const CronSchema = z.string().trim()
  .regex(/^(\S+\s+){4}\S+$/, 'a cron expression has five fields: minute hour day-of-month month day-of-week');

export const TriggerSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('api') }).describe('enrolled through POST /v1/journeys/:key/enrolments only'),
  z.object({
    type: z.literal('event'),
    event: EventNameSchema,
    condition: ConditionSchema.optional().describe('over event.* and contact.* fields'),
  }).describe('a matching event from POST /v1/events enrols its contact'),
  z.object({
    type: z.literal('segment'),
    segment: SegmentKeySchema.optional().describe('a saved segment: a contact entering it (segment.entered) is enrolled'),
    condition: ConditionSchema.optional().describe('or an inline condition over contact fields, tags and score'),
  }).refine((t) => (t.segment === undefined) !== (t.condition === undefined), { message: 'give exactly one of segment or condition', path: ['segment'] })
    .describe('a contact that enters the saved segment, or newly matches the inline condition (created or changed), is enrolled'),
  z.object({
    type: z.literal('schedule'),
    cron: CronSchema,
    timezone: TimeZoneSchema.default('UTC'),
    condition: ConditionSchema.optional().describe('which contacts to enrol at each run (all when absent)'),
  }).describe('a Temporal Schedule enrols the matching contacts at each run'),
]);

/** Journey keys appear in workflow ids (`journey:<key>:<contact>`): no colons, lowercase. */
export const JourneyKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a journey key is 1-64 lowercase letters, digits, "_" or "-"');

export const EntryRulesSchema = z.object({
  reentry: z.enum(['once', 'after_exit', 'always']).default('once')
    .describe('once ever; again after the previous enrolment ended; or always'),
  cooldown: DurationSchema.optional().describe('with after_exit/always: minimum time since the previous enrolment started'),
});

export const GoalSchema = z.object({
  event: EventNameSchema.optional().describe('a goal event; absent: a state goal, reached when the contact changes so that `condition` holds'),
  condition: ConditionSchema.optional(),
}).refine((g) => g.event !== undefined || g.condition !== undefined, { message: 'a goal needs an event or a condition', path: ['event'] })
  .describe('this event (or, without one, the contact reaching this state) ends the enrolment as converted');

const reason = z.string().min(1).max(200).optional();

export const ExitEventSchema = z.object({
  event: EventNameSchema,
  condition: ConditionSchema.optional(),
  reason,
}).strict().describe('this event ends the enrolment early, with the reason recorded');

export const SegmentLeftExitSchema = z.object({
  segmentLeft: SegmentKeySchema.describe('the contact leaving this saved segment ends the enrolment'),
  reason,
}).strict();

export const StateExitSchema = z.object({
  condition: ConditionSchema.describe('the contact changing so that this holds ends the enrolment'),
  reason,
}).strict();

export const ExitSchema = z.union([ExitEventSchema, SegmentLeftExitSchema, StateExitSchema])
  .describe('an exit event, the contact leaving a segment (`segmentLeft`), or a state the contact reaches (`condition` alone)');
export type Exit = z.infer<typeof ExitSchema>;

export const JourneyDefinitionSchema = z.object({
  trigger: TriggerSchema.default({ type: 'api' }),
  entry: EntryRulesSchema.default({ reentry: 'once' }),
  goal: GoalSchema.optional(),
  exits: z.array(ExitSchema).max(20).default([]),
  sendingWindow: SendingWindowSchema.optional(),
  whenCapped: WhenCappedSchema.optional().describe('the default of its send_email steps: skip (the default) or delay an email the frequency cap refuses'),
  steps: z.array(StepSchema).min(1).max(500),
  // Runs even when a step is malformed, so every problem is reported at once.
}).superRefine((def, ctx) => checkDefinition(def, ctx), { when: () => true }).meta({ id: 'JourneyDefinition' });

export type JourneyDefinition = z.infer<typeof JourneyDefinitionSchema>;

/** A definition's JSON is at most this many bytes: 500 ordinary steps fit in a fraction of it. */
export const MAX_DEFINITION_BYTES = 256 * 1024;

/** Why a definition is too large to store or publish (its JSON in UTF-8), or undefined. */
export function definitionSizeProblem(definition: unknown): string | undefined {
  const bytes = new TextEncoder().encode(JSON.stringify(definition) ?? '').length;
  return bytes > MAX_DEFINITION_BYTES ? `a definition is at most ${MAX_DEFINITION_BYTES / 1024} KiB of JSON; this one is ${Math.ceil(bytes / 1024)} KiB` : undefined;
}

/** Steps as far as they can be read: a malformed one still has its id and next checked. */
function readableSteps(def: unknown): Step[] {
  const steps = (def as { steps?: unknown } | undefined)?.steps;
  if (!Array.isArray(steps)) return [];
  return steps.map((raw, i) => {
    const step = (raw ?? {}) as { id?: unknown };
    return { ...(raw as object), id: typeof step.id === 'string' ? step.id : `#${i}` } as Step;
  });
}

function checkDefinition(raw: unknown, ctx: z.RefinementCtx): void {
  const tooLarge = definitionSizeProblem(raw);
  if (tooLarge) ctx.addIssue({ code: 'custom', path: [], message: tooLarge });
  const steps = readableSteps(raw);
  if (!steps.length) return;
  const index = new Map<string, number>();
  steps.forEach((step, i) => {
    if (index.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i, 'id'], message: `step "${step.id}": the id is used twice` });
    else index.set(step.id, i);
  });
  const byId = new Map(steps.map((s) => [s.id, s]));
  steps.forEach((step, i) => {
    for (const exit of safeExits(step)) {
      if (!index.has(exit.target)) {
        ctx.addIssue({ code: 'custom', path: ['steps', i, ...fieldPath(exit.field)], message: `step "${step.id}": next step "${exit.target}" does not exist` });
      }
    }
    checkConditions(step, i, byId, ctx);
  });
  const reachable = new Set<string>();
  const queue = [steps[0]!.id];
  while (queue.length) {
    const id = queue.pop()!;
    if (reachable.has(id) || !byId.has(id)) continue;
    reachable.add(id);
    queue.push(...safeExits(byId.get(id)!).map((e) => e.target));
  }
  steps.forEach((step, i) => {
    if (!reachable.has(step.id)) ctx.addIssue({ code: 'custom', path: ['steps', i], message: `step "${step.id}": unreachable from the first step "${steps[0]!.id}"` });
  });
  const loop = findLoopWithoutPause(byId);
  if (loop) {
    // Name the wait that does not sleep, if the loop has one; else the loop's first step.
    const sleepless = loop.map((id) => ({ id, why: sleeplessWait(byId.get(id)!) })).find((s) => s.why);
    if (sleepless) {
      ctx.addIssue({
        code: 'custom', path: ['steps', index.get(sleepless.id)!, ...fieldPath(sleepless.why!.field)],
        message: `step "${sleepless.id}": ${sleepless.why!.reason}, so the loop ${loop.join(' → ')} can cycle without sleeping`,
      });
    } else {
      ctx.addIssue({ code: 'custom', path: ['steps', index.get(loop[0]!)!], message: `step "${loop[0]}": the loop ${loop.join(' → ')} has no wait in it` });
    }
  }
  const def = raw as { trigger?: { type?: string; condition?: Condition }; goal?: { condition?: Condition }; exits?: Array<{ condition?: Condition }> };
  const others: Array<[Array<string | number>, Condition | undefined]> = [[['trigger', 'condition'], def.trigger?.condition], [['goal', 'condition'], def.goal?.condition],
    ...(Array.isArray(def.exits) ? def.exits : []).map((e, k): [Array<string | number>, Condition | undefined] => [['exits', k, 'condition'], e?.condition])];
  for (const [path, condition] of others) {
    if (safe(() => readsProcessFacts(condition)) === true) ctx.addIssue({ code: 'custom', path, message: 'run.* and task.* fields are only available in processes' });
  }
  if (def.trigger?.type !== 'event' && (readsEvent(def.trigger?.condition) || readsTrigger(def.trigger?.condition))) {
    ctx.addIssue({ code: 'custom', path: ['trigger', 'condition'], message: 'only an event trigger has event.* and trigger.* fields' });
  }
  for (const problem of nameProblems(def, steps)) ctx.addIssue({ code: 'custom', ...problem });
}

function safeExits(step: Step): Array<{ field: string; target: string }> {
  try {
    return exits(step);
  } catch {
    return [];
  }
}

/** "cases[1].next" → ['cases', 1, 'next'] */
function fieldPath(field: string): Array<string | number> {
  return field.split(/[.[\]]/).filter(Boolean).map((p) => (/^\d+$/.test(p) ? Number(p) : p));
}

/** Engagement must name an earlier email step. */
function checkConditions(step: Step, i: number, byId: Map<string, Step>, ctx: z.RefinementCtx): void {
  const conditions: Array<{ path: Array<string | number>; condition: Condition | undefined }> = [];
  if (step.type === 'branch' && Array.isArray(step.cases)) {
    step.cases.forEach((c, k) => conditions.push({ path: ['cases', k, 'condition'], condition: c?.condition }));
  }
  if (step.type === 'wait_for_event') conditions.push({ path: ['condition'], condition: step.condition });
  for (const { path, condition } of conditions) {
    for (const target of safe(() => engagementSteps(condition))) {
      if (byId.get(target)?.type !== 'send_email') {
        ctx.addIssue({ code: 'custom', path: ['steps', i, ...path], message: `step "${step.id}": engagement refers to "${target}", which is not a send_email step` });
      }
    }
    if (safe(() => readsProcessFacts(condition)) === true) {
      ctx.addIssue({ code: 'custom', path: ['steps', i, ...path], message: `step "${step.id}": run.* and task.* fields are only available in processes` });
    }
  }
}

/** Whether a condition reads a process run's facts (run.*, task.*), which a journey does not have. */
function readsProcessFacts(condition: Condition | undefined): boolean {
  return !!condition && conditionReads(condition).paths.some((p) => p.startsWith('run.') || p.startsWith('task.'));
}

function safe<T>(fn: () => T): T | never[] {
  try {
    return fn();
  } catch {
    return [];
  }
}

/** A cycle of steps none of which pauses, as a list of ids, or undefined. */
function findLoopWithoutPause(byId: Map<string, Step>): string[] | undefined {
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (id: string): string[] | undefined => {
    const step = byId.get(id);
    if (!step || pauses(step) || state.get(id) === 'done') return undefined;
    if (state.get(id) === 'open') return [...stack.slice(stack.indexOf(id)), id];
    state.set(id, 'open');
    stack.push(id);
    for (const exit of safeExits(step)) {
      const loop = visit(exit.target);
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

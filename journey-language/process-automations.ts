import { z } from 'zod';
import { ContactFieldsSchema, TagSchema } from './contact-fields';
import { JourneyKeySchema } from './definition';
import { SegmentKeySchema } from './segment-conditions';
import { DurationSchema, NOTIFY_TIMEOUT_MAX_MS, PrincipalSchema, TemplateKeySchema } from './steps';
import { durationToMs } from './durations';
import { templateProblem } from './templates';

/** Every string in a JSON value, with its path. */
function stringsIn(value: unknown, path: Array<string | number> = []): Array<[Array<string | number>, string]> {
  if (typeof value === 'string') return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringsIn(v, [...path, i]));
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => stringsIn(v, [...path, k]));
  return [];
}

/**
 * Automations: what a process task does when it finishes, through the same services the API and
 * journey steps use (docs/processes.md#automations). Each is `{ on, do }`: `on` is when it fires
 * (`done`: the task finished, whatever its outcome; `approved` / `rejected`: an approval's
 * outcome), `do` one action of a discriminated union. Values a run supplies are read by
 * reference (`{ "from": "run.inputs.<name>" | "task.<id>.values.<field>" }`), never as template
 * source or as a path.
 */
export const ValueRefSchema = z.object({
  from: z.string().regex(/^(run\.inputs\.[A-Za-z][A-Za-z0-9_]{0,49}|task\.[a-z0-9][a-z0-9_-]{0,63}\.values\.[A-Za-z][A-Za-z0-9_]{0,49})$/,
    'a value is read from "run.inputs.<name>" or "task.<task id>.values.<field>"'),
}).strict().meta({ id: 'ProcessValueRef' });
export type ValueRef = z.infer<typeof ValueRefSchema>;

const JourneyRef = z.union([JourneyKeySchema, ValueRefSchema]).describe('a journey key, or where the run holds one');

export const PublishJourneyAutomationSchema = z.object({
  type: z.literal('publish_journey'),
  journey: JourneyRef.optional().describe('absent: the journey the run reviews (a journey review run)'),
}).strict();

export const PauseJourneyAutomationSchema = z.object({ type: z.literal('pause_journey'), journey: JourneyRef }).strict();
export const ResumeJourneyAutomationSchema = z.object({ type: z.literal('resume_journey'), journey: JourneyRef }).strict();

export const EnrolSegmentAutomationSchema = z.object({
  type: z.literal('enrol_segment'),
  segment: SegmentKeySchema.describe('every member of this segment (at most 10,000) is enrolled'),
  journey: JourneyRef,
}).strict();

export const UpdateContactsAutomationSchema = z.object({
  type: z.literal('update_contacts'),
  segment: SegmentKeySchema.describe('every member of this segment (at most 10,000) is updated'),
  set: ContactFieldsSchema.optional(),
  addTags: z.array(TagSchema).max(50).optional(),
  removeTags: z.array(TagSchema).max(50).optional(),
  scoreDelta: z.number().int().optional(),
}).strict().refine((u) => u.set !== undefined || u.addTags !== undefined || u.removeTags !== undefined || u.scoreDelta !== undefined, {
  message: 'say what to change: set, addTags, removeTags or scoreDelta', path: ['set'],
});

export const WebhookAutomationSchema = z.object({
  type: z.literal('webhook'),
  url: z.url({ protocol: /^https?$/ }).describe('the webhook to POST to; internal addresses are refused unless WEBHOOK_ALLOWED_HOSTS names the host'),
  body: z.record(z.string(), z.unknown()).optional().superRefine((body, ctx) => {
    for (const [path, source] of stringsIn(body)) {
      const problem = templateProblem(source);
      if (problem) ctx.addIssue({ code: 'custom', path, message: `body ${problem}` });
    }
  }).describe('JSON body; string values are Liquid templates over process, run.inputs and task.<id>.values'),
  timeout: DurationSchema.refine((d) => (durationToMs(d) ?? 0) <= NOTIFY_TIMEOUT_MAX_MS, 'a webhook timeout is at most 30s').default('10s'),
}).strict();

export const EmailRecipientSchema = z.union([
  PrincipalSchema, z.object({ userId: z.uuid() }).strict(), ValueRefSchema,
]).describe('a user (by email or id) or every member of a role (internal mail), or an address a run holds (a contact: checked as marketing email)');

export const SendEmailAutomationSchema = z.object({
  type: z.literal('send_email'),
  template: TemplateKeySchema,
  templateVersion: z.number().int().positive().optional().describe('set by publishing when absent'),
  to: EmailRecipientSchema,
  topic: z.string().regex(/^[a-z0-9_-]{1,50}$/).default('marketing').describe('the consent topic of mail to a contact'),
}).strict();

export const ProcessAutomationActionSchema = z.discriminatedUnion('type', [
  PublishJourneyAutomationSchema, PauseJourneyAutomationSchema, ResumeJourneyAutomationSchema, EnrolSegmentAutomationSchema,
  UpdateContactsAutomationSchema, WebhookAutomationSchema, SendEmailAutomationSchema,
]).meta({ id: 'ProcessAutomationAction' });
export type ProcessAutomationAction = z.infer<typeof ProcessAutomationActionSchema>;

export const AUTOMATION_MOMENTS = ['done', 'approved', 'rejected'] as const;
export type AutomationMoment = (typeof AUTOMATION_MOMENTS)[number];

export const ProcessAutomationSchema = z.object({
  on: z.enum(AUTOMATION_MOMENTS).describe('done: the task finished (any outcome); approved / rejected: an approval task\'s outcome'),
  do: ProcessAutomationActionSchema,
}).strict().meta({ id: 'ProcessAutomation' });
export type ProcessAutomation = z.infer<typeof ProcessAutomationSchema>;

/** The value references an automation reads, with the path of each within `do`. */
export function automationRefs(action: ProcessAutomationAction): Array<{ field: string; ref: ValueRef }> {
  const refs: Array<{ field: string; ref: unknown }> = [];
  switch (action.type) {
    case 'publish_journey':
    case 'pause_journey':
    case 'resume_journey':
    case 'enrol_segment':
      refs.push({ field: 'journey', ref: action.journey });
      break;
    case 'send_email':
      refs.push({ field: 'to', ref: action.to });
      break;
    case 'update_contacts':
    case 'webhook':
      break;
    default: {
      const unhandled: never = action;
      throw new Error(`No automation ${JSON.stringify(unhandled)}`);
    }
  }
  return refs.filter((r): r is { field: string; ref: ValueRef } => typeof r.ref === 'object' && r.ref !== null && 'from' in r.ref);
}

/** What checkProcess needs to know about the task an automation belongs to. */
export interface AutomationPlace {
  kind: string;
  /** Whether a task id is this task or an earlier one. */
  readable: (taskId: string) => boolean;
  inputs: ReadonlySet<string>;
}

/** Problems of one task's automations: the moment its kind has, and references the run can fill. */
export function automationProblems(automations: ProcessAutomation[], place: AutomationPlace): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  automations.forEach((a, k) => {
    if (a.on !== 'done' && place.kind !== 'approval') problems.push({ path: [k, 'on'], message: `"${a.on}" is an approval's outcome; a ${place.kind} task is "done"` });
    for (const { field, ref } of automationRefs(a.do)) {
      const [root, id] = ref.from.split('.');
      const name = ref.from.split('.').pop()!;
      if (root === 'run' && !place.inputs.has(name)) problems.push({ path: [k, 'do', field], message: `"${ref.from}" is not one of the run's inputs` });
      if (root === 'task' && !place.readable(id!)) problems.push({ path: [k, 'do', field], message: `"${ref.from}" does not read this task or an earlier one` });
    }
  });
  return problems;
}

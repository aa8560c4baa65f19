import { z } from 'zod';
import { ConditionSchema } from './condition-schema';
import { ContactFieldsSchema, TagSchema, TimeZoneSchema } from './contact-fields';
import { DURATION_PATTERN, durationToMs } from './durations';
import { patternProblem } from './form-pattern';
import { WEEKDAYS } from './time-of-day';
import { templateProblem } from './templates';

/** The step types of the journey language, one schema each; see journey-definition.ts. */
export const StepIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'a step id is 1-64 letters, digits, "_" or "-"');
export const EventNameSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/, 'an event name is 1-100 letters, digits, "_", ".", ":" or "-"');
const next = StepIdSchema.optional().describe('the step that follows; absent ends the enrolment');
const stepBase = { id: StepIdSchema, name: z.string().max(200).optional() };

export const DurationSchema = z.string().trim()
  .regex(DURATION_PATTERN, 'a duration is a number and a unit: "30s", "15m", "2h", "3d" or "1w"')
  .refine((d) => (durationToMs(d) ?? 0) <= 366 * 86_400_000, 'a duration is at most a year');

const template = (what: string, max = 100_000) => z.string().min(1).max(max).superRefine((source, ctx) => {
  const problem = templateProblem(source);
  if (problem) ctx.addIssue({ code: 'custom', message: `${what} ${problem}` });
});

const TimeOfDaySchema = z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day is "HH:MM", 00:00-23:59');

export const TemplateKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a template key is 1-64 lowercase letters, digits, "_" or "-"');

export const WhenCappedSchema = z.enum(['skip', 'delay']);

export const SendEmailStepSchema = z.object({
  ...stepBase,
  type: z.literal('send_email'),
  template: TemplateKeySchema.optional().describe('a stored template (POST /v1/templates); publishing pins its latest version'),
  templateVersion: z.number().int().positive().optional().describe('set by publishing when absent'),
  subject: template('subject', 998).optional().describe('inline Liquid, instead of a template'),
  text: template('text').optional(),
  html: template('html').optional(),
  category: z.enum(['marketing', 'transactional']).default('marketing')
    .describe('marketing email checks consent and the frequency cap and carries one-click unsubscribe'),
  topic: z.string().regex(/^[a-z0-9_-]{1,50}$/).default('marketing').describe('the consent topic'),
  transactionalReason: z.string().trim().min(1).max(500).optional()
    .describe('why this email is transactional (a receipt, a password reset): required to publish a transactional step, with an admin key; recorded in the audit'),
  whenCapped: WhenCappedSchema.optional().describe("when the frequency cap is reached: skip the email, or delay it to the cap's next allowed moment (default: the journey's whenCapped, else skip)"),
  next,
}).refine((s) => (s.template !== undefined) !== (s.subject !== undefined || s.text !== undefined), {
  message: 'give either "template" or inline "subject" and "text"', path: ['template'],
}).refine((s) => s.template !== undefined || (s.subject !== undefined && s.text !== undefined), {
  message: 'inline content needs both "subject" and "text"', path: ['text'],
});

export const CHANNELS = ['email', 'sms'] as const;
export const ChannelSchema = z.enum(CHANNELS);

export const SendMessageStepSchema = z.object({
  ...stepBase,
  type: z.literal('send_message'),
  channel: z.enum([...CHANNELS, 'preferred']).describe("a channel, or the contact's preferredChannel (email when none is set)"),
  fallback: z.array(ChannelSchema).max(CHANNELS.length).default([])
    .describe('tried in order when the channel before has no address, no consent (or no SMS provider is configured)'),
  email: z.object({ subject: template('subject', 998), text: template('text'), html: template('html').optional() }).optional()
    .describe('the email, Liquid as in send_email'),
  sms: z.object({ text: template('text', 1_600) }).optional().describe('the SMS text, Liquid over contact, journey and trigger'),
  topic: z.string().regex(/^[a-z0-9_-]{1,50}$/).default('marketing').describe('the consent topic, checked on the channel used'),
  next,
}).superRefine((s, ctx) => {
  const used = new Set<string>([...(s.channel === 'preferred' ? CHANNELS : [s.channel]), ...s.fallback]);
  for (const channel of used) {
    if (s[channel as 'email' | 'sms'] === undefined) ctx.addIssue({ code: 'custom', path: [channel], message: `the step may send on ${channel}: give its "${channel}" content` });
  }
});

export const AssignOwnerStepSchema = z.object({
  ...stepBase,
  type: z.literal('assign_owner'),
  pool: z.array(z.string().trim().min(1).max(320)).min(1).max(200).describe('owners to rotate through (emails or user ids)'),
  poolKey: z.string().regex(/^[a-z0-9_-]{1,64}$/).optional().describe('share one rotation across journeys; defaults to journey:step'),
  onlyIfUnassigned: z.boolean().default(true),
  next,
});

/**
 * A webhook's timeout is capped well below the notify activity's start-to-close timeout (1 minute,
 * workflows/activities.ts), so a slow receiver fails the attempt, not the activity's slot.
 */
export const NOTIFY_TIMEOUT_MAX_MS = 30_000;

export const NotifyStepSchema = z.object({
  ...stepBase,
  type: z.literal('notify'),
  url: z.url({ protocol: /^https?$/ }).describe('the webhook to POST to; internal addresses are refused unless WEBHOOK_ALLOWED_HOSTS names the host'),
  format: z.enum(['json', 'slack']).default('json').describe('slack sends { text } from `text`'),
  body: z.record(z.string(), z.unknown()).optional().describe('JSON body; string values are Liquid templates over contact and journey'),
  text: template('text', 4_000).optional().describe('the message for the slack format'),
  timeout: DurationSchema.refine((d) => (durationToMs(d) ?? 0) <= NOTIFY_TIMEOUT_MAX_MS, 'a webhook timeout is at most 30s')
    .default('10s').describe('how long to wait for the receiver, at most 30s'),
  next,
}).refine((n) => n.format !== 'slack' || n.text !== undefined, { message: 'the slack format needs "text"', path: ['text'] });

export const WaitUntilSchema = z.object({
  at: TimeOfDaySchema.optional().describe('the next occurrence of this local time'),
  between: z.object({ start: TimeOfDaySchema, end: TimeOfDaySchema }).optional()
    .describe('a sending window: no wait inside it, else wait for its start'),
  weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional().describe('allowed days (all when absent)'),
  timezone: TimeZoneSchema.default('UTC').describe("used when the contact has no time zone"),
}).refine((u) => (u.at === undefined) !== (u.between === undefined), { message: 'give exactly one of "at" or "between"', path: ['at'] });

/** Quiet hours for a whole journey: every marketing send waits until the window is open. */
export const SendingWindowSchema = z.object({
  start: TimeOfDaySchema,
  end: TimeOfDaySchema,
  weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7).optional().describe('allowed days (all when absent)'),
  timezone: TimeZoneSchema.default('UTC').describe('used when the contact has no time zone'),
}).describe("marketing sends happen only between start and end (in the contact's time zone); outside, the send waits for the next opening");
export type SendingWindow = z.infer<typeof SendingWindowSchema>;

export const WaitStepSchema = z.object({
  ...stepBase,
  type: z.literal('wait'),
  duration: DurationSchema.optional(),
  until: WaitUntilSchema.optional().describe("a time of day / weekdays in the contact's time zone (quiet hours)"),
  next,
}).refine((w) => (w.duration === undefined) !== (w.until === undefined), { message: 'a wait has either "duration" or "until"', path: ['duration'] });

export const WaitForEventStepSchema = z.object({
  ...stepBase,
  type: z.literal('wait_for_event'),
  event: EventNameSchema,
  condition: ConditionSchema.optional().describe('over event.* (and contact.*) fields'),
  timeout: DurationSchema,
  next: next.describe('when the event arrives in time'),
  onTimeout: StepIdSchema.optional().describe('when it does not; absent ends the enrolment'),
});

export const BranchStepSchema = z.object({
  ...stepBase,
  type: z.literal('branch'),
  cases: z.array(z.object({ condition: ConditionSchema, next: StepIdSchema.optional() })).min(1).max(20)
    .describe('the first case whose condition holds is taken'),
  default: StepIdSchema.optional().describe('when no case holds; absent ends the enrolment'),
});

export const SplitStepSchema = z.object({
  ...stepBase,
  type: z.literal('split'),
  variants: z.array(z.object({
    id: z.string().regex(/^[A-Za-z0-9_-]{1,32}$/, 'a variant id is 1-32 letters, digits, "_" or "-"'),
    weight: z.number().positive(),
    next: StepIdSchema.optional(),
  })).min(1).max(10),
  holdout: z.object({
    weight: z.number().positive(),
    next: StepIdSchema.optional(),
    duration: DurationSchema.default('30d').describe('without next: how long the control group stays enrolled, so its conversions count'),
  }).optional().describe('a control group that gets none of the following steps'),
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

export const FormFieldSchema = z.object({
  name: z.string().regex(/^[A-Za-z][A-Za-z0-9_]{0,49}$/, 'a field name is a letter then letters, digits or "_"'),
  label: z.string().min(1).max(200),
  type: z.enum(['text', 'long_text', 'number', 'select', 'checkbox', 'date']),
  required: z.boolean().default(false),
  help: z.string().max(500).optional(),
  options: z.array(z.string().min(1).max(200)).min(1).max(50).optional().describe('select: the choices'),
  min: z.number().optional().describe('number: smallest allowed'),
  max: z.number().optional().describe('number: largest allowed'),
  maxLength: z.number().int().positive().max(10_000).optional().describe('text: longest allowed'),
  pattern: z.string().max(200).superRefine((pattern, ctx) => {
    const problem = patternProblem(pattern);
    if (problem) ctx.addIssue({ code: 'custom', message: `the pattern ${problem}` });
  }).optional().describe('text: a regular expression the value must contain a match of (RE2 syntax: no backreferences or lookarounds)'),
}).refine((f) => f.type !== 'select' || f.options !== undefined, { message: 'a select field needs options', path: ['options'] });

export const RoleSchema = z.string().regex(/^[a-z0-9_-]{1,50}$/, 'a role is 1-50 lowercase letters, digits, "_" or "-"');
export const PrincipalSchema = z.union([
  z.object({ user: z.email().describe('a user by email') }).strict(),
  z.object({ role: RoleSchema.describe('every user with this role') }).strict(),
]);

export const ApprovalStepSchema = z.object({
  ...stepBase,
  type: z.literal('approval'),
  title: template('title', 300),
  description: template('description').optional(),
  assignee: PrincipalSchema,
  fields: z.array(FormFieldSchema).max(30).default([]),
  due: DurationSchema.optional().describe('shown as the due time; overdue tasks sort first'),
  remindAfter: DurationSchema.optional(),
  escalateAfter: DurationSchema.optional(),
  escalateTo: PrincipalSchema.optional().describe('who may also decide once escalated'),
  expireAfter: DurationSchema.default('7d'),
  onApprove: StepIdSchema.optional(),
  onReject: StepIdSchema.optional(),
  onExpire: StepIdSchema.optional(),
}).refine((a) => (a.escalateAfter === undefined) === (a.escalateTo === undefined), {
  message: 'escalateAfter and escalateTo go together', path: ['escalateTo'],
});

/** Who holds a `task` step: a user, a role, the contact's owner, or the people of a pool in turn. */
export const TaskAssigneeSchema = z.union([
  ...PrincipalSchema.options,
  z.object({ owner: z.literal('contact').describe('the contact\'s owner (set by assign_owner)') }).strict(),
  z.object({ pool: z.array(z.email()).min(1).max(50).describe('users by email, in the rotation assign_owner uses: whose turn it is holds the task, then the next on timeout') }).strict(),
]);

/** A human task with a form: its holder accepts it within `acceptWithin`, then completes it (docs/journey-language.md). */
export const TaskStepSchema = z.object({
  ...stepBase,
  type: z.literal('task'),
  title: template('title', 300),
  description: template('description').optional(),
  assignee: TaskAssigneeSchema,
  fields: z.array(FormFieldSchema).max(30).default([]),
  acceptWithin: DurationSchema.default('1d').describe('how long each holder has to accept (or decline) the task'),
  remindAfter: DurationSchema.optional().describe('remind a holder who has not accepted yet this long after the task reached them'),
  completeWithin: DurationSchema.default('7d').describe('how long the holder has to complete the task once accepted; then the outcome is no_answer'),
  onTimeout: z.enum(['escalate', 'next']).default('escalate').describe('escalate: hand it to escalateTo; next: the next person of the pool'),
  onDecline: z.enum(['reject', 'next']).default('reject').describe('reject: a decline ends the step rejected; next: the task moves on as on a timeout (rejected when nobody is left)'),
  poolKey: z.string().regex(/^[a-z0-9_-]{1,64}$/).optional().describe('a pool assignee: the rotation to take turns from (shared with assign_owner steps of that poolKey); defaults to journey:step'),
  escalateTo: PrincipalSchema.optional().describe('onTimeout escalate: who holds the task next'),
  maxReassignments: z.number().int().min(0).max(10).default(1).describe('how many times the task changes hands before no_answer'),
  onAccepted: StepIdSchema.optional(),
  onRejected: StepIdSchema.optional(),
  onNoAnswer: StepIdSchema.optional(),
}).refine((t) => t.onTimeout !== 'next' || 'pool' in t.assignee, { message: 'onTimeout "next" needs a pool assignee', path: ['onTimeout'] })
  .refine((t) => t.onTimeout !== 'escalate' || t.maxReassignments === 0 || t.escalateTo !== undefined, {
    message: 'onTimeout "escalate" needs escalateTo (or maxReassignments 0)', path: ['escalateTo'],
  });

export const ExitStepSchema = z.object({
  ...stepBase,
  type: z.literal('exit'),
  reason: z.string().min(1).max(200).default('exit step'),
});

export const StepSchema = z.discriminatedUnion('type', [
  SendEmailStepSchema, SendMessageStepSchema, WaitStepSchema, WaitForEventStepSchema, BranchStepSchema, SplitStepSchema,
  UpdateContactStepSchema, AssignOwnerStepSchema, NotifyStepSchema, ApprovalStepSchema, TaskStepSchema, ExitStepSchema,
]);

export type Step = z.infer<typeof StepSchema>;
export type StepType = Step['type'];
export type SendEmailStep = z.infer<typeof SendEmailStepSchema>;
export type SendMessageStep = z.infer<typeof SendMessageStepSchema>;
export type Channel = z.infer<typeof ChannelSchema>;
export type WaitStep = z.infer<typeof WaitStepSchema>;
export type WaitForEventStep = z.infer<typeof WaitForEventStepSchema>;
export type BranchStep = z.infer<typeof BranchStepSchema>;
export type SplitStep = z.infer<typeof SplitStepSchema>;
export type UpdateContactStep = z.infer<typeof UpdateContactStepSchema>;
export type ExitStep = z.infer<typeof ExitStepSchema>;
export type AssignOwnerStep = z.infer<typeof AssignOwnerStepSchema>;
export type NotifyStep = z.infer<typeof NotifyStepSchema>;
export type ApprovalStep = z.infer<typeof ApprovalStepSchema>;
export type TaskStep = z.infer<typeof TaskStepSchema>;
export type TaskAssignee = z.infer<typeof TaskAssigneeSchema>;
export type FormField = z.infer<typeof FormFieldSchema>;
export type Principal = z.infer<typeof PrincipalSchema>;

/** Where a step can go next, with the field that says so. Exhaustive over step types. */
export function exits(step: Step): Array<{ field: string; target: string }> {
  const out: Array<{ field: string; target: string | undefined }> = [];
  switch (step.type) {
    case 'send_email':
    case 'send_message':
    case 'wait':
    case 'update_contact':
    case 'assign_owner':
    case 'notify':
      out.push({ field: 'next', target: step.next });
      break;
    case 'wait_for_event':
      out.push({ field: 'next', target: step.next }, { field: 'onTimeout', target: step.onTimeout });
      break;
    case 'branch':
      step.cases.forEach((c, i) => out.push({ field: `cases[${i}].next`, target: c.next }));
      out.push({ field: 'default', target: step.default });
      break;
    case 'split':
      step.variants.forEach((v, i) => out.push({ field: `variants[${i}].next`, target: v.next }));
      out.push({ field: 'holdout.next', target: step.holdout?.next });
      break;
    case 'approval':
      out.push({ field: 'onApprove', target: step.onApprove }, { field: 'onReject', target: step.onReject }, { field: 'onExpire', target: step.onExpire });
      break;
    case 'task':
      out.push({ field: 'onAccepted', target: step.onAccepted }, { field: 'onRejected', target: step.onRejected }, { field: 'onNoAnswer', target: step.onNoAnswer });
      break;
    case 'exit':
      break;
    default: {
      const unknown: never = step;
      // A malformed step (validation reports it) still leads where its `next` says.
      out.push({ field: 'next', target: (unknown as { next?: string }).next });
    }
  }
  return out.filter((e): e is { field: string; target: string } => typeof e.target === 'string');
}

/**
 * Why a waiting step may not sleep at all, naming the field: a wait, a wait for an event or an
 * approval whose duration is 0, or a wait for a `between` window (none when the window is open
 * already). Undefined for a step that always sleeps or never waits. Reads malformed steps too.
 */
export function sleeplessWait(step: Step): { field: string; reason: string } | undefined {
  const zero = (field: string, duration: unknown, what: string) =>
    (typeof duration === 'string' && durationToMs(duration) === 0 ? { field, reason: `${what} of ${duration} does not sleep` } : undefined);
  switch (step.type) {
    case 'wait':
      if (step.until?.between !== undefined) return { field: 'until.between', reason: 'a wait for a window does not sleep while the window is open' };
      return zero('duration', step.duration, 'a wait');
    case 'wait_for_event':
      return zero('timeout', step.timeout, 'a timeout');
    case 'approval':
      return zero('expireAfter', step.expireAfter, 'an expiry');
    case 'task':
      return zero('acceptWithin', step.acceptWithin, 'an acceptance deadline');
    default:
      return undefined;
  }
}

/** Steps that surely pause the enrolment (a loop must pass through one). */
export function pauses(step: Step): boolean {
  return (step.type === 'wait' || step.type === 'wait_for_event' || step.type === 'approval' || step.type === 'task') && sleeplessWait(step) === undefined;
}

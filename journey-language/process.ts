import { z } from 'zod';
import { ConditionSchema } from './condition-schema';
import { conditionReads } from './process-run';
import { ProcessStartOnSchema, startOnProblems } from './process-start';
import { DurationSchema, FormFieldSchema, PrincipalSchema, RoleSchema } from './steps';
import { BusinessDaysSchema, ProcessRemindSchema, timingProblems } from './process-timing';
import { automationProblems, ProcessAutomationSchema } from './process-automations';

/**
 * The process language: a versioned JSON checklist of tasks in sections, run as one workflow that
 * is not tied to a contact (docs/processes.md). Tasks are checklist items, forms or approvals;
 * stop tasks hold every later task back, `after` names tasks one waits for, `when` shows a task
 * only when earlier answers or the run's inputs say so, and `due` sets its due time relative to
 * the run's start or an earlier task. This file is the single source of the definition's types,
 * its validation and its OpenAPI schema.
 */
export const ProcessKeySchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a process key is 1-64 lowercase letters, digits, "_" or "-"');
export const ProcessTaskIdSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'a task id is 1-64 lowercase letters, digits, "_" or "-"');

/** Round-robin: the task goes to the next person of a rotation when it opens, once per run and task. */
export const RoundRobinAssigneeSchema = z.object({
  roundRobin: z.union([
    z.object({ role: RoleSchema.describe("the role's members, in order of their user ids") }).strict(),
    z.object({ users: z.array(z.email()).min(1).max(50).describe('users by email, in this order') }).strict(),
  ]).describe('who takes turns'),
  rotation: z.string().regex(/^[a-z0-9_-]{1,64}$/, 'a rotation is 1-64 lowercase letters, digits, "_" or "-"').optional()
    .describe("share one rotation (by name) across tasks, processes and assign_owner's poolKey; defaults to this task's own"),
}).strict();
export type RoundRobinAssignee = z.infer<typeof RoundRobinAssigneeSchema>;

/** Who holds a task: a user (by email or id), every member of a role, or the next person of a round-robin. */
export const ProcessAssigneeSchema = z.union([
  PrincipalSchema,
  z.object({ userId: z.uuid().describe('a user by id') }).strict(),
  RoundRobinAssigneeSchema,
]).meta({ id: 'ProcessAssignee' });
export type ProcessAssignee = z.infer<typeof ProcessAssigneeSchema>;

export const ProcessDueSchema = z.object({
  after: DurationSchema.describe('how long after `from` the task is due; whole days ("3d") with `businessDays`'),
  from: z.union([z.literal('start'), ProcessTaskIdSchema]).default('start')
    .describe('"start" (the run\'s start) or an earlier task, from when it finished'),
  businessDays: BusinessDaysSchema.optional()
    .describe('count `after` in business days in this time zone (weekends and holidays skipped), landing at the same local time of day'),
}).strict();

/** Escalation: once, `after` the task opened (or fell due), `to` may act on it too and is told so. */
export const ProcessEscalateSchema = z.object({
  after: DurationSchema.describe('how long after `from` the task escalates'),
  from: z.enum(['opened', 'due']).default('opened').describe('count from when the task opened, or from its due time'),
  to: ProcessAssigneeSchema.describe('who may act on the task from then on, beside its assignees'),
}).strict().meta({ id: 'ProcessEscalate' });

const taskBase = {
  id: ProcessTaskIdSchema,
  title: z.string().trim().min(1).max(300),
  description: z.string().max(5_000).optional(),
  stop: z.boolean().default(false).describe('a stop task: no later task opens until it is finished'),
  after: z.array(ProcessTaskIdSchema).max(50).default([]).describe('earlier tasks this one waits for'),
  when: ConditionSchema.optional().describe('shown only when true, else skipped: over run.inputs.<name> and task.<earlier task>.status|decision|values.<field>'),
  due: ProcessDueSchema.optional(),
  remind: ProcessRemindSchema.optional().describe('email the people who may still act, while the task is open'),
  escalate: ProcessEscalateSchema.optional().describe('let someone else act too when the task is still open after a while'),
  automations: z.array(ProcessAutomationSchema).max(20).optional()
    .describe('what the task does when it finishes: publish, pause or resume a journey, enrol a segment, update contacts, call a webhook, send an email'),
};

export const ChecklistTaskSchema = z.object({
  ...taskBase,
  kind: z.literal('checklist'),
  assignee: ProcessAssigneeSchema.optional().describe('who may tick it; anyone with an approver key when absent'),
}).strict();

export const FormTaskSchema = z.object({
  ...taskBase,
  kind: z.literal('form'),
  assignee: ProcessAssigneeSchema.optional().describe('who may fill it; anyone with an approver key when absent'),
  fields: z.array(FormFieldSchema).min(1).max(30),
}).strict();

const APPROVAL_MODES = {
  single: 'one approver decides',
  all_of: 'every listed approver must approve (one rejection rejects; nobody decides twice)',
  any_of: 'the first approval approves (rejected once every approver rejected)',
} as const;
const ApprovalModeSchema = z.enum(['single', 'all_of', 'any_of']);
const ApproversSchema = z.array(ProcessAssigneeSchema).min(1).max(20).describe('each entry is one approver: a user, any one member of a role, or a round-robin pick');

/** One stage of a sequential approval: decided like an approval of its mode. */
export const ApprovalStageSchema = z.object({
  mode: ApprovalModeSchema.default('single').describe(Object.entries(APPROVAL_MODES).map(([m, d]) => `${m}: ${d}`).join('; ')),
  approvers: ApproversSchema,
}).strict().refine((s) => s.mode !== 'single' || s.approvers.length === 1, { message: 'a single stage has exactly one approver', path: ['approvers'] })
  .meta({ id: 'ApprovalStage' });
export type ApprovalStage = z.infer<typeof ApprovalStageSchema>;

export const ApprovalTaskSchema = z.object({
  ...taskBase,
  kind: z.literal('approval'),
  mode: z.enum(['single', 'all_of', 'any_of', 'sequential']).default('single')
    .describe(`${Object.entries(APPROVAL_MODES).map(([m, d]) => `${m}: ${d}`).join('; ')}; sequential: \`stages\` in order, each opening when the one before approved (any stage rejecting rejects)`),
  approvers: ApproversSchema.optional().describe('the approvers (every mode but sequential)'),
  stages: z.array(ApprovalStageSchema).min(2).max(10).optional().describe('a sequential approval\'s stages, in order'),
  fields: z.array(FormFieldSchema).max(30).default([]),
}).strict().superRefine((t, ctx) => {
  const problem = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
  if (t.mode === 'sequential') {
    if (!t.stages) problem('stages', 'a sequential approval has `stages` (at least two)');
    if (t.approvers) problem('approvers', 'a sequential approval names its approvers in `stages`, not `approvers`');
    return;
  }
  if (t.stages) problem('stages', '`stages` are for a sequential approval (mode "sequential")');
  if (!t.approvers) problem('approvers', 'an approval has `approvers`');
  else if (t.mode === 'single' && t.approvers.length !== 1) problem('approvers', 'a single approval has exactly one approver');
});
export type ApprovalTask = z.infer<typeof ApprovalTaskSchema>;

export const ProcessTaskSchema = z.discriminatedUnion('kind', [ChecklistTaskSchema, FormTaskSchema, ApprovalTaskSchema]).meta({ id: 'ProcessTask' });
export type ProcessTask = z.infer<typeof ProcessTaskSchema>;
export type ProcessTaskKind = ProcessTask['kind'];

export const ProcessSectionSchema = z.object({
  title: z.string().trim().min(1).max(200),
  tasks: z.array(ProcessTaskSchema).min(1).max(200),
}).strict();

const ProcessDefinitionObject = z.object({
  inputs: z.array(FormFieldSchema).max(30).default([]).describe('what starting a run takes (POST /v1/processes/:key/runs), checked like form fields'),
  sections: z.array(ProcessSectionSchema).min(1).max(50),
  startOn: ProcessStartOnSchema.optional().describe('an event that starts a run, its inputs mapped from the event (process-start.ts)'),
}).strict();

export type ProcessDefinition = z.infer<typeof ProcessDefinitionObject>;

export const ProcessDefinitionSchema = ProcessDefinitionObject.superRefine((def, ctx) => checkProcess(def, ctx)).meta({ id: 'ProcessDefinition' });

/** A task with its place: section index and title, task index within the section. */
export interface PlacedTask {
  task: ProcessTask;
  section: number;
  sectionTitle: string;
  index: number;
}

/** Every task in order, sections first to last. */
export function tasksOf(def: Pick<ProcessDefinition, 'sections'>): PlacedTask[] {
  return def.sections.flatMap((s, section) => s.tasks.map((task, index) => ({ task, section, sectionTitle: s.title, index })));
}

/** Tasks in one process at most: every move of a run looks at each of them. */
export const MAX_PROCESS_TASKS = 500;

function checkProcess(def: ProcessDefinition, ctx: z.RefinementCtx): void {
  const placed = tasksOf(def);
  for (const p of def.startOn ? startOnProblems(def.startOn, def.inputs) : []) ctx.addIssue({ code: 'custom', path: ['startOn', ...p.path], message: p.message });
  if (placed.length > MAX_PROCESS_TASKS) ctx.addIssue({ code: 'custom', path: ['sections'], message: `a process has at most ${MAX_PROCESS_TASKS} tasks; this one has ${placed.length}` });
  const position = new Map<string, number>();
  const inputs = new Set(def.inputs.map((f) => f.name));
  placed.forEach(({ task, section, index }, order) => {
    const at = (...rest: Array<string | number>) => ['sections', section, 'tasks', index, ...rest];
    const problem = (path: Array<string | number>, message: string) => ctx.addIssue({ code: 'custom', path: at(...path), message: `task "${task.id}": ${message}` });
    if (position.has(task.id)) problem(['id'], 'the id is used twice');
    const earlier = (id: string) => (position.get(id) ?? Infinity) < order;
    task.after.forEach((id, k) => { if (!earlier(id)) problem(['after', k], `"${id}" is not an earlier task`); });
    if (task.due && task.due.from !== 'start' && !earlier(task.due.from)) problem(['due', 'from'], `"${task.due.from}" is not an earlier task`);
    for (const p of timingProblems(task)) problem(p.path, p.message);
    if (task.when) {
      const reads = conditionReads(task.when);
      if (reads.contactFacts) problem(['when'], 'a process condition reads run.inputs.* and task.* only (no tags or engagement)');
      for (const path of reads.paths) {
        const [root, second] = path.split('.');
        if (root === 'run' && !(second === 'inputs' && inputs.has(path.split('.')[2] ?? ''))) problem(['when'], `"${path}" is not one of the run's inputs (run.inputs.<name>)`);
        else if (root === 'task' && !earlier(second!)) problem(['when'], `"${path}" does not read an earlier task`);
        else if (root !== 'run' && root !== 'task') problem(['when'], `"${path}": a process condition reads run.inputs.* and task.* only`);
      }
    }
    if (task.kind === 'approval') checkStages(task, (path, message) => problem(path, message));
    const readable = (id: string) => id === task.id || earlier(id);
    for (const p of automationProblems(task.automations ?? [], { kind: task.kind, readable, inputs })) problem(['automations', ...p.path], p.message);
    if (!position.has(task.id)) position.set(task.id, order);
  });
}

/**
 * Nobody decides at two stages of a sequential approval, so a user named in two stages could
 * never decide the later one: refused here (roles and rotations are resolved when a stage opens).
 */
function checkStages(task: ApprovalTask, problem: (path: Array<string | number>, message: string) => void): void {
  const stageOf = new Map<string, number>();
  (task.stages ?? []).forEach((stage, s) => stage.approvers.forEach((who, k) => {
    const id = 'user' in who ? who.user.toLowerCase() : 'userId' in who ? who.userId : undefined;
    if (id === undefined) return;
    const first = stageOf.get(id);
    if (first !== undefined && first !== s) problem(['stages', s, 'approvers', k], `"${id}" is an approver of stage ${first + 1} already: nobody decides at two stages`);
    else stageOf.set(id, s);
  }));
}

/** The id of the task a zod issue's path points into, so a 422 can name it. */
export function processTaskAt(def: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'sections' || typeof path[1] !== 'number' || path[2] !== 'tasks' || typeof path[3] !== 'number') return undefined;
  const sections = (def as { sections?: unknown } | undefined)?.sections;
  const tasks = Array.isArray(sections) ? (sections[path[1]] as { tasks?: unknown } | undefined)?.tasks : undefined;
  const id = Array.isArray(tasks) ? (tasks[path[3]] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

import { z } from 'zod';
import { ConditionSchema } from './condition-schema';
import { conditionReads } from './process-run';
import { automationProblems, ProcessAutomationSchema } from './process-automations';
import { DurationSchema, FormFieldSchema, PrincipalSchema } from './steps';

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

/** Who holds a task: a user (by email or id) or every member of a role. */
export const ProcessAssigneeSchema = z.union([
  PrincipalSchema,
  z.object({ userId: z.uuid().describe('a user by id') }).strict(),
]).meta({ id: 'ProcessAssignee' });
export type ProcessAssignee = z.infer<typeof ProcessAssigneeSchema>;

export const ProcessDueSchema = z.object({
  after: DurationSchema.describe('how long after `from` the task is due'),
  from: z.union([z.literal('start'), ProcessTaskIdSchema]).default('start')
    .describe('"start" (the run\'s start) or an earlier task, from when it finished'),
}).strict();

const taskBase = {
  id: ProcessTaskIdSchema,
  title: z.string().trim().min(1).max(300),
  description: z.string().max(5_000).optional(),
  stop: z.boolean().default(false).describe('a stop task: no later task opens until it is finished'),
  after: z.array(ProcessTaskIdSchema).max(50).default([]).describe('earlier tasks this one waits for'),
  when: ConditionSchema.optional().describe('shown only when true, else skipped: over run.inputs.<name> and task.<earlier task>.status|decision|values.<field>'),
  due: ProcessDueSchema.optional(),
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

export const ApprovalTaskSchema = z.object({
  ...taskBase,
  kind: z.literal('approval'),
  mode: z.enum(['single', 'all_of', 'any_of']).default('single')
    .describe('single: one approver decides; all_of: every listed approver must approve (one rejection rejects); any_of: the first approval approves (rejected once every approver rejected)'),
  approvers: z.array(ProcessAssigneeSchema).min(1).max(20).describe('each entry is one approver: a user, or any one member of a role'),
  fields: z.array(FormFieldSchema).max(30).default([]),
}).strict().refine((t) => t.mode !== 'single' || t.approvers.length === 1, { message: 'a single approval has exactly one approver', path: ['approvers'] });

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
    const readable = (id: string) => id === task.id || earlier(id);
    for (const p of automationProblems(task.automations ?? [], { kind: task.kind, readable, inputs })) problem(['automations', ...p.path], p.message);
    if (!position.has(task.id)) position.set(task.id, order);
  });
}

/** The id of the task a zod issue's path points into, so a 422 can name it. */
export function processTaskAt(def: unknown, path: readonly PropertyKey[]): string | undefined {
  if (path[0] !== 'sections' || typeof path[1] !== 'number' || path[2] !== 'tasks' || typeof path[3] !== 'number') return undefined;
  const sections = (def as { sections?: unknown } | undefined)?.sections;
  const tasks = Array.isArray(sections) ? (sections[path[1]] as { tasks?: unknown } | undefined)?.tasks : undefined;
  const id = Array.isArray(tasks) ? (tasks[path[3]] as { id?: unknown } | undefined)?.id : undefined;
  return typeof id === 'string' ? id : undefined;
}

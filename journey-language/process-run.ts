import type { Condition } from './condition-schema';
import { evaluate } from './conditions';
import { msOf } from './durations';
import type { ApprovalTask, ProcessAssignee, ProcessDefinition, ProcessTask } from './process';

/**
 * How a process run moves, as pure functions the run's workflow calls (and the API, for
 * progress): which tasks open or are skipped next, an approval's outcome, the run's progress.
 * No zod and no I/O, so the workflow bundle carries none of the schema machinery.
 */
export type ProcessTaskStatus = 'pending' | 'open' | 'done' | 'approved' | 'rejected' | 'skipped' | 'cancelled';

const FINISHED: ReadonlySet<ProcessTaskStatus> = new Set(['done', 'approved', 'rejected', 'skipped', 'cancelled']);
export const isFinished = (status: ProcessTaskStatus) => FINISHED.has(status);

/** One approver of an approval (a user, or any one member of a role), resolved when it opened. */
export interface ApprovalSlot {
  userIds: string[];
  role?: string;
  /** The stage (1, 2, …) of a sequential approval the slot belongs to; a task's slots are its current stage's. */
  stage?: number;
  /** The rotation a round-robin assignee was picked from (`userIds` is the one picked). */
  rotation?: string;
  decision?: 'approve' | 'reject';
  decidedBy?: string;
}

export interface RunTask {
  id: string;
  status: ProcessTaskStatus;
  /** Epoch ms (workflow clock) when the task finished. */
  finishedAt?: number;
  dueAt?: number;
  overdue: boolean;
  /** Who may act, resolved when it opened: one slot per assignee or approver; none = anyone. Undefined while opening. */
  slots?: ApprovalSlot[];
  values: Record<string, unknown>;
  decision?: 'approve' | 'reject';
}

/** Every task in definition order. */
export function orderedTasks(def: Pick<ProcessDefinition, 'sections'>): ProcessTask[] {
  return def.sections.flatMap((s) => s.tasks);
}

/** Every field path a condition reads, and whether it reads tags or engagement (contact facts). */
export function conditionReads(condition: Condition): { paths: string[]; contactFacts: boolean } {
  if ('all' in condition || 'any' in condition) {
    const parts = ('all' in condition ? condition.all : condition.any).map(conditionReads);
    return { paths: parts.flatMap((p) => p.paths), contactFacts: parts.some((p) => p.contactFacts) };
  }
  if ('not' in condition) return conditionReads(condition.not);
  if ('field' in condition) return { paths: [condition.field], contactFacts: false };
  return { paths: [], contactFacts: true };
}

/** The tasks a condition reads (`task.<id>.…`): a conditional task waits until they finish. */
export function tasksReadBy(condition: Condition | undefined): string[] {
  if (!condition) return [];
  return [...new Set(conditionReads(condition).paths.filter((p) => p.startsWith('task.')).map((p) => p.split('.')[1]!))];
}

/** The earlier tasks a task waits for: its `after`, the tasks its condition reads, its due date's base. */
export function dependenciesOf(task: ProcessTask): string[] {
  const due = task.due && task.due.from !== 'start' ? [task.due.from] : [];
  return [...new Set([...task.after, ...tasksReadBy(task.when), ...due])];
}

/** What a run's conditions read: its inputs and its finished tasks' answers. */
export function processFacts(inputs: Record<string, unknown>, tasks: Record<string, RunTask>) {
  const task: Record<string, { status: string; decision?: string; values: Record<string, unknown> }> = {};
  for (const t of Object.values(tasks)) {
    if (isFinished(t.status)) task[t.id] = { status: t.status, decision: t.decision, values: t.values };
  }
  return { run: { inputs }, task };
}

/**
 * The pending tasks that may move now, in order: each waits for every earlier unfinished stop
 * task and for its dependencies; then it opens, or is skipped when its condition is false. A
 * skipped task counts as finished at once, so later tasks in the same pass see it.
 */
export function nextMoves(def: Pick<ProcessDefinition, 'sections'>, tasks: Record<string, RunTask>, inputs: Record<string, unknown>):
  { open: ProcessTask[]; skip: ProcessTask[] } {
  const open: ProcessTask[] = [];
  const skip: ProcessTask[] = [];
  const view: Record<string, RunTask> = { ...tasks };
  let stopped = false;
  for (const task of orderedTasks(def)) {
    const state = view[task.id]!;
    if (state.status === 'pending' && !stopped && dependenciesOf(task).every((id) => isFinished(view[id]!.status))) {
      if (task.when && !evaluate(task.when, processFacts(inputs, view))) {
        skip.push(task);
        view[task.id] = { ...state, status: 'skipped' };
      } else {
        open.push(task);
        view[task.id] = { ...state, status: 'open' };
      }
    }
    if (task.stop && !isFinished(view[task.id]!.status)) stopped = true;
  }
  return { open, skip };
}

/** What a task's due time counts from: the run's start, or when the task it names finished. */
export function dueBaseOf(task: ProcessTask, startedAt: number, tasks: Record<string, RunTask>): number | undefined {
  if (!task.due) return undefined;
  return task.due.from === 'start' ? startedAt : tasks[task.due.from]?.finishedAt ?? startedAt;
}

/**
 * When a task opened now falls due: a duration after its base. A business-day due time needs the
 * calendar of its time zone, so the task's opening activity computes it (undefined here).
 */
export function dueAtOf(task: ProcessTask, startedAt: number, tasks: Record<string, RunTask>): number | undefined {
  const base = dueBaseOf(task, startedAt, tasks);
  return base === undefined || task.due!.businessDays ? undefined : base + msOf(task.due!.after);
}

/** The first undecided slot the user may fill (undefined: they may not decide, or decided already). */
export function slotFor(slots: ApprovalSlot[], userId: string): ApprovalSlot | undefined {
  if (slots.some((s) => s.decidedBy === userId)) return undefined;
  return slots.find((s) => s.decision === undefined && s.userIds.includes(userId));
}

/** An approval's outcome from its slots: undefined while it waits for more decisions. */
export function approvalOutcome(mode: 'single' | 'all_of' | 'any_of', slots: ApprovalSlot[]): 'approve' | 'reject' | undefined {
  const decided = slots.filter((s) => s.decision !== undefined);
  if (mode === 'any_of') {
    if (decided.some((s) => s.decision === 'approve')) return 'approve';
    return decided.length === slots.length ? 'reject' : undefined;
  }
  if (decided.some((s) => s.decision === 'reject')) return 'reject';
  return decided.length === slots.length ? 'approve' : undefined;
}

/** An approval's stages in order: a sequential approval's `stages`, any other its one stage of `approvers`. */
export function approvalStages(task: ApprovalTask): Array<{ mode: 'single' | 'all_of' | 'any_of'; approvers: ProcessAssignee[] }> {
  return task.mode === 'sequential' ? task.stages ?? [] : [{ mode: task.mode, approvers: task.approvers ?? [] }];
}

/** Who a task's slots are resolved from when it opens and, for a sequential approval, its first stage. */
export function openingOf(task: ProcessTask): { assignees: ProcessAssignee[]; stage?: number } {
  if (task.kind !== 'approval') return { assignees: task.assignee ? [task.assignee] : [] };
  if (task.mode === 'sequential') return { assignees: approvalStages(task)[0]!.approvers, stage: 1 };
  return { assignees: task.approvers ?? [] };
}

/** The stage (1, 2, …) an open sequential approval is at: its slots' (undefined for other tasks). */
export function currentStage(task: Pick<RunTask, 'slots'>): number | undefined {
  return task.slots?.[0]?.stage;
}

/**
 * Where an approval goes after a decision, from its current slots with the decision in: still
 * open, approved or rejected; for a sequential approval also the current stage's outcome and the
 * stage that opens next (when a stage but the last approved). Any stage rejecting rejects.
 */
export interface ApprovalMove {
  status: 'open' | 'approved' | 'rejected';
  stage?: { number: number; outcome?: 'approved' | 'rejected'; next?: { number: number; approvers: ProcessAssignee[] } };
}

export function approvalMove(task: ApprovalTask, slots: ApprovalSlot[]): ApprovalMove {
  const statusOf = (outcome: 'approve' | 'reject' | undefined) => (outcome === undefined ? 'open' : outcome === 'approve' ? 'approved' : 'rejected');
  if (task.mode !== 'sequential') return { status: statusOf(approvalOutcome(task.mode, slots)) };
  const stages = approvalStages(task);
  const number = slots[0]?.stage ?? 1;
  const outcome = statusOf(approvalOutcome(stages[number - 1]!.mode, slots));
  if (outcome === 'open') return { status: 'open', stage: { number } };
  const next = outcome === 'approved' ? stages[number] : undefined;
  if (!next) return { status: outcome, stage: { number, outcome } };
  return { status: 'open', stage: { number, outcome, next: { number: number + 1, approvers: next.approvers } } };
}

/** Who may still act on an open task: the undecided slots' people and roles (anyone: empty); a sequential approval's are its current stage's. */
export function holdersOf(task: RunTask): { userIds: string[]; roles: string[] } {
  const waiting = (task.slots ?? []).filter((s) => s.decision === undefined);
  return { userIds: [...new Set(waiting.flatMap((s) => s.userIds))], roles: [...new Set(waiting.flatMap((s) => (s.role ? [s.role] : [])))] };
}

export interface ProcessProgress {
  /** Finished tasks that were shown (done, approved, rejected). */
  done: number;
  /** Tasks that are or will be shown: all but the skipped and cancelled. */
  total: number;
  skipped: number;
  /** Open tasks past their due time. */
  overdue: string[];
  /** The first open task in order, who may act on it and (a sequential approval) its current stage. */
  next?: { taskId: string; userIds: string[]; roles: string[]; stage?: number };
}

export function progressOf(def: Pick<ProcessDefinition, 'sections'>, tasks: Record<string, RunTask>): ProcessProgress {
  const all = orderedTasks(def).map((t) => tasks[t.id]!);
  const nextTask = all.find((t) => t.status === 'open');
  return {
    done: all.filter((t) => ['done', 'approved', 'rejected'].includes(t.status)).length,
    total: all.filter((t) => t.status !== 'skipped' && t.status !== 'cancelled').length,
    skipped: all.filter((t) => t.status === 'skipped').length,
    overdue: all.filter((t) => t.status === 'open' && t.overdue).map((t) => t.id),
    next: nextTask && { taskId: nextTask.id, ...holdersOf(nextTask), ...(currentStage(nextTask) ? { stage: currentStage(nextTask) } : {}) },
  };
}

/** Whether a task's automation (`on`: done, approved, rejected) fires for the status the task finished with. */
export function automationFires(on: 'done' | 'approved' | 'rejected', status: ProcessTaskStatus): boolean {
  if (on === 'done') return status === 'done' || status === 'approved' || status === 'rejected';
  return status === on;
}

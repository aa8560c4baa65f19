import type { Condition } from './condition-schema';
import { evaluate } from './conditions';
import { msOf } from './durations';
import type { ProcessDefinition, ProcessTask } from './process';

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

/** When a task opened now falls due: after the run's start or the task it names finished. */
export function dueAtOf(task: ProcessTask, startedAt: number, tasks: Record<string, RunTask>): number | undefined {
  if (!task.due) return undefined;
  const base = task.due.from === 'start' ? startedAt : tasks[task.due.from]?.finishedAt ?? startedAt;
  return base + msOf(task.due.after);
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

/** Who may still act on an open task: the undecided slots' people and roles (anyone: empty). */
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
  /** The first open task in order, and who may act on it. */
  next?: { taskId: string; userIds: string[]; roles: string[] };
}

export function progressOf(def: Pick<ProcessDefinition, 'sections'>, tasks: Record<string, RunTask>): ProcessProgress {
  const all = orderedTasks(def).map((t) => tasks[t.id]!);
  const nextTask = all.find((t) => t.status === 'open');
  return {
    done: all.filter((t) => ['done', 'approved', 'rejected'].includes(t.status)).length,
    total: all.filter((t) => t.status !== 'skipped' && t.status !== 'cancelled').length,
    skipped: all.filter((t) => t.status === 'skipped').length,
    overdue: all.filter((t) => t.status === 'open' && t.overdue).map((t) => t.id),
    next: nextTask && { taskId: nextTask.id, ...holdersOf(nextTask) },
  };
}

/** Whether a task's automation (`on`: done, approved, rejected) fires for the status the task finished with. */
export function automationFires(on: 'done' | 'approved' | 'rejected', status: ProcessTaskStatus): boolean {
  if (on === 'done') return status === 'done' || status === 'approved' || status === 'rejected';
  return status === on;
}

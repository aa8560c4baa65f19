import { holdersOf, msOf, undecidedSlots, widenSlots, type RunTask } from '../journey-language/interpreter';
import type { ProcessTask } from '../journey-language';
import { actions } from './activities';
import type { ProcessRunRef } from './process-actions';

/**
 * A process run's clocks: due times (overdue marking), reminders and escalations of its open
 * tasks, as moments the run's main loop waits for on one durable timer. A definition without
 * `remind` and `escalate` has due times only, and they move exactly as before these existed (the
 * same timer, the same `markProcessTasksOverdue` call), so its recorded histories replay.
 */
interface Clock {
  /** Workflow clock when the run first saw the task open (the loop looks right after opening it). */
  openedAt: number;
  reminders: number;
  escalated: boolean;
}

/** A task whose slots are known: not a sequential approval's next stage still opening. */
const settled = (t: RunTask) => t.slots !== undefined;

export class ProcessTimers {
  private readonly clocks = new Map<string, Clock>();
  /** How often each task's due time was moved (`changeProcessTaskDue`): a task late again after a move is audited again. */
  readonly dueChanges = new Map<string, number>();
  /** Tasks whose due time is being moved: the overdue marking leaves them alone until the move is recorded. */
  readonly changing = new Set<string>();
  /** Set while the overdue marking is recorded: a due change waits for it, so the two never cross in the task's row. */
  marking = false;

  constructor(private readonly tasks: Record<string, RunTask>, private readonly byId: Map<string, ProcessTask>, private readonly run: ProcessRunRef) {}

  /** Starts the reminder and escalation clocks of tasks that opened since the last look. */
  look(now: number): void {
    for (const t of Object.values(this.tasks)) {
      const task = this.byId.get(t.id)!;
      if (t.status === 'open' && (task.remind || task.escalate) && !this.clocks.has(t.id)) this.clocks.set(t.id, { openedAt: now, reminders: 0, escalated: false });
    }
  }

  /** The next moment something is to happen, if anything is. */
  next(): number | undefined {
    const moments = this.open().flatMap((t) => [t.overdue ? undefined : t.dueAt, ...(settled(t) ? [this.reminderAt(t), this.escalationAt(t)] : [])])
      .filter((m): m is number => m !== undefined);
    return moments.length ? Math.min(...moments) : undefined;
  }

  /** Does what is due by `now`: marks late tasks overdue, escalates, then reminds. */
  async fire(now: number): Promise<void> {
    const late = this.open().filter((t) => !t.overdue && t.dueAt !== undefined && t.dueAt <= now && !this.changing.has(t.id));
    if (late.length) {
      // Runs whose due times were never moved record the same input as before due changes existed.
      const moved = late.filter((t) => this.dueChanges.has(t.id));
      this.marking = true;
      await actions.markProcessTasksOverdue({
        ...this.run, taskIds: late.map((t) => t.id), ...(moved.length ? { dueChanges: Object.fromEntries(moved.map((t) => [t.id, this.dueChanges.get(t.id)!])) } : {}),
      });
      this.marking = false;
      for (const t of late) t.overdue = true;
    }
    // Each waits for the one before: a task finished meanwhile is left alone.
    // A sequential approval whose next stage is opening waits for it: the change wakes the loop.
    for (const t of this.open().filter((o) => (this.escalationAt(o) ?? Infinity) <= now)) if (t.status === 'open' && settled(t)) await this.escalate(t);
    for (const t of this.open().filter((o) => (this.reminderAt(o) ?? Infinity) <= now)) if (t.status === 'open' && settled(t)) await this.remind(t, now);
  }

  private open(): RunTask[] {
    return Object.values(this.tasks).filter((t) => t.status === 'open');
  }

  private base(t: RunTask, from: 'opened' | 'due'): number | undefined {
    return from === 'due' ? t.dueAt : this.clocks.get(t.id)?.openedAt;
  }

  private reminderAt(t: RunTask): number | undefined {
    const remind = this.byId.get(t.id)!.remind;
    const clock = this.clocks.get(t.id);
    const base = remind && this.base(t, remind.from);
    if (!remind || !clock || base === undefined || clock.reminders >= remind.max) return undefined;
    return base + (clock.reminders + 1) * msOf(remind.every);
  }

  private escalationAt(t: RunTask): number | undefined {
    const escalate = this.byId.get(t.id)!.escalate;
    const clock = this.clocks.get(t.id);
    const base = escalate && this.base(t, escalate.from);
    return !escalate || !clock || clock.escalated || base === undefined ? undefined : base + msOf(escalate.after);
  }

  /** One reminder to whoever may still act; reminders missed while the run was down are not sent in a burst. */
  private async remind(t: RunTask, now: number): Promise<void> {
    const task = this.byId.get(t.id)!;
    const clock = this.clocks.get(t.id)!;
    const base = this.base(t, task.remind!.from)!;
    const n = Math.min(task.remind!.max, Math.floor((now - base) / msOf(task.remind!.every)));
    clock.reminders = Math.max(n, clock.reminders + 1);
    await actions.remindProcessTask({ ...this.run, taskId: t.id, kind: task.kind, title: task.title, reminder: clock.reminders, userIds: holdersOf(t).userIds });
  }

  /** The escalation target may act from now on (widening the undecided slots) and is told. */
  private async escalate(t: RunTask): Promise<void> {
    const task = this.byId.get(t.id)!;
    const clock = this.clocks.get(t.id)!;
    clock.escalated = true;
    const before = t.slots;
    const slots = undecidedSlots(before ?? []);
    const stage = before?.[0]?.stage;
    const r = await actions.escalateProcessTask({ ...this.run, taskId: t.id, kind: task.kind, title: task.title, to: task.escalate!.to, slots, ...(stage ? { stage } : {}) });
    // A sequential approval whose next stage opened first escalates that stage instead, on the next pass.
    if (r.stale) clock.escalated = false;
    // Slots that decided while the escalation was recorded stay as they are.
    else if (t.status === 'open' && before && t.slots === before) widenSlots(before, slots.filter((i) => before[i]!.decision === undefined), r.userIds);
  }
}

import { condition, setHandler } from '@temporalio/workflow';
import type { ProcessTask } from '../journey-language';
import { actions } from './activities';
import { changeProcessTaskDueUpdate, ProcessTaskRefusal, type ProcessRunState, type ProcessTaskDueChange } from './contract';
import { refuse, type ProcessRunRef } from './process-actions';
import type { ProcessTimers } from './process-timers';

const iso = (ms: number | undefined) => (ms === undefined ? null : new Date(ms).toISOString());

/**
 * How an operator moves an open task's due time: the `changeProcessTaskDue` update. Its validator
 * refuses a task that is not open (or a run that ended) and a due time that has passed before
 * anything reaches history; its handler records the change through an activity (the task's row,
 * one audit record keyed `<workflowId>:<task>:due:<n>`, n counting the task's changes), then moves
 * the task's due time in the run's state and wakes the main loop, whose timer then waits for the
 * new moment (reminders and an escalation `from: "due"` move with it). A task that was overdue is
 * no longer: its new due time is in the future, or it has none.
 */
export function registerDueChangeHandler(
  state: Omit<ProcessRunState, 'progress'>, byId: Map<string, ProcessTask>, run: ProcessRunRef, timers: ProcessTimers, changed: () => void,
): void {
  const check = (input: ProcessTaskDueChange) => {
    const task = byId.get(input.taskId);
    const t = state.tasks[input.taskId];
    if (!task || !t || t.status !== 'open' || state.status !== 'running') refuse(ProcessTaskRefusal.taskClosed, 'this task is not open');
    if (input.dueAt !== null && !(Date.parse(input.dueAt) > Date.now())) refuse(ProcessTaskRefusal.dueInPast, 'the new due time has passed');
    return { task, t };
  };
  setHandler(changeProcessTaskDueUpdate, async (input) => {
    // One change of a task at a time, and none while the overdue marking is being recorded.
    // A sequential approval's next stage that is opening is waited for, not refused.
    await condition(() => !timers.marking && !timers.changing.has(input.taskId) && (state.tasks[input.taskId]?.status !== 'open' || state.tasks[input.taskId]?.slots !== undefined));
    const { task, t } = check(input);
    timers.changing.add(task.id);
    const change = (timers.dueChanges.get(task.id) ?? 0) + 1;
    const dueAt = input.dueAt === null ? undefined : Date.parse(input.dueAt);
    try {
      await actions.changeProcessTaskDue({
        ...run, taskId: task.id, kind: task.kind, title: task.title, change, from: iso(t.dueAt), dueAt: iso(dueAt), reason: input.reason, actor: input.actor,
      });
      timers.dueChanges.set(task.id, change);
      // A task finished while the change was recorded keeps what it had.
      if (t.status === 'open') Object.assign(t, { dueAt, overdue: false });
    } finally {
      timers.changing.delete(task.id);
    }
    changed();
    return { dueAt: iso(dueAt), overdue: false, change };
  }, { validator: (input) => { check(input); } });
}

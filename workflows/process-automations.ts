import { proxyActivities } from '@temporalio/workflow';
import { automationFires, isFinished } from '../journey-language/interpreter';
import type { ProcessTask } from '../journey-language';
import type { JourneyActivities } from '../activities';
import type { ProcessRunInput, ProcessRunState } from './contract';
import type { ProcessRunRef } from './process-actions';

/**
 * A process run's automations (docs/processes.md#automations): when a task finishes, each of its
 * automations whose `on` matches the outcome runs once, in order, as its own activity. The
 * activity records the outcome in the run's chain; a permanent failure is recorded there and the
 * run goes on, a transient one is retried with backoff (holding the run's next moves until it
 * clears). A definition without automations issues no command here, so runs of such
 * definitions replay as before.
 */
const automations = proxyActivities<JourneyActivities>({
  // Enrolling or updating a segment's members (10,000 at most) takes longer than one write.
  startToCloseTimeout: '10 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '5 minutes' },
});

/** Tasks of each run whose automations were looked at, by the run's state (one per run). */
const handled = new WeakMap<object, Set<string>>();

const FINISHED_BY_PEOPLE = new Set(['done', 'approved', 'rejected']);

/** Runs the automations of tasks finished since the last call, tasks in checklist order, each task once. */
export async function runTaskAutomations(
  state: Omit<ProcessRunState, 'progress'>, byId: Map<string, ProcessTask>, run: ProcessRunRef, input: ProcessRunInput,
): Promise<void> {
  let seen = handled.get(state);
  if (!seen) handled.set(state, (seen = new Set()));
  for (const task of byId.values()) {
    const t = state.tasks[task.id]!;
    if (seen.has(task.id) || !FINISHED_BY_PEOPLE.has(t.status)) continue;
    seen.add(task.id);
    for (const [index, automation] of (task.automations ?? []).entries()) {
      if (!automationFires(automation.on, t.status)) continue;
      const tasks = Object.fromEntries(Object.values(state.tasks).filter((x) => isFinished(x.status)).map((x) => [x.id, { status: x.status, values: x.values }]));
      await automations.runProcessAutomation.executeWithOptions(
        { activityId: `${task.id}:automation:${index}`, summary: `Automation ${index} of task "${task.id}": ${automation.do.type}` },
        [{ ...run, taskId: task.id, taskStatus: t.status, index, automation, inputs: input.inputs, tasks, review: input.review }],
      );
    }
  }
}

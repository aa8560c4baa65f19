import { sleep, workflowInfo } from '@temporalio/workflow';
import { actions } from './activities';
import type { ScriptedEvent, TestRunScriptWorkflow } from './contract';

/** Delivers a test run's scripted events at their (compressed) times. */
export async function testRunScriptWorkflow(input: { events: ScriptedEvent[] }): Promise<void> {
  const start = Date.now();
  const ordered = [...input.events].sort((a, b) => a.atMs - b.atMs);
  for (const [i, event] of ordered.entries()) {
    const wait = start + event.atMs - Date.now();
    if (wait > 0) await sleep(wait, { summary: `Until scripted event ${i + 1}: ${event.name}` });
    await actions.sendTestEvent.executeWithOptions({ activityId: `event:${i}`, summary: `Scripted event ${event.name}` }, [{ ...event, id: `${workflowInfo().workflowId}:${i}` }]);
  }
}
testRunScriptWorkflow satisfies TestRunScriptWorkflow;

import { eq } from 'drizzle-orm';
import { WorkflowUpdateFailedError, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import { tasks } from '../../db/schema';
import { validateValues, type ApprovalStep, type JourneyDefinition } from '../../journey-language';
import { decideTaskUpdate, type ScriptedDecision } from '../../workflows/contract';
import { invalid } from '../lib/errors';

/** A decision as a test run's request gives it: `after` is journey time (ms) after the run's start. */
export interface TestRunDecision {
  ref: string;
  step?: string;
  decide: 'approve' | 'reject';
  values: Record<string, unknown>;
  after: number;
}

/**
 * Checks a test run's scripted decisions against its contacts and the definition it runs (each
 * problem names its field, `body.decisions.<i>.…`), and gives each contact its decisions in the
 * order they come due, at real times: the run's start plus `after` compressed by `timeScale`.
 */
export function scriptDecisions(
  definition: JourneyDefinition, refs: Set<string>, decisions: TestRunDecision[], run: { startedAt: number; timeScale: number },
): Map<string, ScriptedDecision[]> {
  const approvals = definition.steps.filter((s): s is ApprovalStep => s.type === 'approval');
  const problems: Array<{ path: string; message: string }> = [];
  const byRef = new Map<string, ScriptedDecision[]>();
  decisions.forEach((d, i) => {
    const at = `body.decisions.${i}`;
    if (!refs.has(d.ref)) problems.push({ path: `${at}.ref`, message: `"${d.ref}" is not one of the contacts` });
    const step = d.step === undefined ? (approvals.length === 1 ? approvals[0] : undefined) : approvals.find((s) => s.id === d.step);
    if (!step) {
      problems.push({ path: `${at}.step`, message: d.step === undefined
        ? `name the approval step: this version has ${approvals.length ? approvals.map((s) => `"${s.id}"`).join(', ') : 'none'}`
        : `"${d.step}" is not an approval step of this version` });
      return;
    }
    for (const p of validateValues(step.fields, d.values)) problems.push({ path: `${at}.values.${p.field}`, message: p.message });
    const scripted = { stepId: step.id, decision: d.decide, values: d.values, at: run.startedAt + Math.round(d.after / run.timeScale) };
    byRef.set(d.ref, [...(byRef.get(d.ref) ?? []), scripted]);
  });
  if (problems.length) throw invalid('invalid_test_run', `decision ${problems[0]!.path}: ${problems[0]!.message}`, problems);
  for (const list of byRef.values()) list.sort((a, b) => a.at - b.at);
  return byRef;
}

/**
 * Sends a scripted decision to a test enrolment as its run's sandbox approver, through the same
 * decideTask update an approver's decision takes (the journey validates, records and branches).
 * Only a test task is decided this way; a refusal (closed task, bad values) is answered, not thrown.
 */
export async function decideAsTestRun(
  deps: { db: Database; temporal: Client },
  input: { workflowId: string; taskId: string; decision: 'approve' | 'reject'; values: Record<string, unknown>; approver: string },
): Promise<{ decided: boolean; reason?: string }> {
  const [task] = await deps.db.select({ test: tasks.test }).from(tasks).where(eq(tasks.id, input.taskId));
  if (!task?.test) return { decided: false, reason: 'not a test task' };
  try {
    await deps.temporal.workflow.getHandle(input.workflowId).executeUpdate(decideTaskUpdate, {
      args: [{ taskId: input.taskId, decision: input.decision, values: input.values, actor: { userId: input.approver } }],
      updateId: `${input.approver}:${input.taskId}`,
    });
    return { decided: true };
  } catch (err) {
    if (err instanceof WorkflowUpdateFailedError) return { decided: false, reason: err.cause?.message ?? err.message };
    throw err;
  }
}

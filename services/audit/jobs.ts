import { ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import type { Database } from '../../db/client';
import type { AuditVerificationRow } from '../../db/schema';
import { auditCheckpointWorkflow, auditVerificationWorkflow } from '../../workflows/contract';
import { createVerification, failVerification } from './verifications';

interface TemporalDeps {
  temporal: Client;
  taskQueue: string;
}

/** One checkpoint Schedule per deployment (its task queue), so deployments sharing a namespace keep apart. */
export const auditCheckpointScheduleId = (taskQueue: string) => `audit-checkpoints:${taskQueue}`;

/**
 * Creates or updates the Schedule that writes audit checkpoints every `everyMs` (idempotent: every
 * worker start calls it); `undefined` deletes it. Overlaps are skipped: a slow checkpoint is never
 * raced by the next.
 */
export async function syncAuditCheckpointSchedule(deps: TemporalDeps, everyMs: number | undefined): Promise<void> {
  const scheduleId = auditCheckpointScheduleId(deps.taskQueue);
  const handle = deps.temporal.schedule.getHandle(scheduleId);
  if (everyMs === undefined) {
    await handle.delete().catch((err) => { if (!(err instanceof ScheduleNotFoundError)) throw err; });
    return;
  }
  const spec = { intervals: [{ every: everyMs }] };
  const action = {
    type: 'startWorkflow' as const,
    workflowType: auditCheckpointWorkflow,
    workflowId: `audit-checkpoint:${deps.taskQueue}`,
    args: [] as [],
    taskQueue: deps.taskQueue,
    staticSummary: 'Signed checkpoint of every audit chain head',
  };
  try {
    await deps.temporal.schedule.create({ scheduleId, spec, action, policies: { overlap: ScheduleOverlapPolicy.SKIP } });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await handle.update((previous) => ({ ...previous, spec, action }));
  }
}

/**
 * Starts a background verification: a row that will hold its report, and its workflow. The
 * request returns at once; the report is read from the row (GET /v1/audit/verifications/:id).
 */
export async function startVerification(db: Database, deps: TemporalDeps, requestedBy?: string): Promise<AuditVerificationRow> {
  const row = await createVerification(db, requestedBy);
  try {
    await deps.temporal.workflow.start(auditVerificationWorkflow, {
      workflowId: `audit-verification:${row.id}`, taskQueue: deps.taskQueue, args: [{ verificationId: row.id }],
      staticSummary: 'Verify every audit chain against the latest signed checkpoint',
    });
  } catch (err) {
    await failVerification(db, row.id, `could not start: ${(err as Error).message}`);
    throw err;
  }
  return row;
}

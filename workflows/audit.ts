import { continueAsNew, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { JourneyActivities } from '../activities';
import type { AuditCheckpointResult, AuditCheckpointWorkflow, AuditVerificationInput, AuditVerificationWorkflow } from './contract';

/**
 * Writing a checkpoint pages through every chain in one activity that heartbeats per page; a
 * refusal (the chains no longer match the last checkpoint) is permanent and fails the run, which
 * the Schedule shows; other failures retry a few times, then wait for the next scheduled run.
 */
const checkpointing = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '1 hour',
  heartbeatTimeout: '2 minutes',
  retry: { initialInterval: '10 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes', maximumAttempts: 5 },
});

/** One page of a verification per call: small, retried a while (the sink or the database may be away). */
const verifying = proxyActivities<JourneyActivities>({
  startToCloseTimeout: '5 minutes',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute', maximumAttempts: 20 },
});

/** Started by the audit checkpoint Schedule (services/audit/jobs.ts). */
export async function auditCheckpointWorkflow(): Promise<AuditCheckpointResult> {
  return checkpointing.writeAuditCheckpoint.executeWithOptions({ summary: 'Write a signed checkpoint of every audit chain head' }, []);
}
auditCheckpointWorkflow satisfies AuditCheckpointWorkflow;

/**
 * A background verification: one activity per page (the checkpoint's heads, then every chain's
 * links), each storing its progress and findings in the verification's row, so the history holds
 * only page numbers. Continues as new when the history grows long; a page that keeps failing
 * marks the verification failed.
 */
export async function auditVerificationWorkflow(input: AuditVerificationInput): Promise<{ verificationId: string; pages: number }> {
  const { verificationId } = input;
  let page = input.page ?? 0;
  for (;;) {
    let step: { page: number; done: boolean };
    try {
      step = await verifying.runAuditVerificationPage.executeWithOptions({ summary: `Verify the audit chains, page ${page}` }, [{ verificationId, page }]);
    } catch (err) {
      const failure = err as Error & { cause?: Error };
      await verifying.failAuditVerification({ verificationId, error: failure.cause?.message ?? failure.message });
      throw err;
    }
    page = step.page;
    if (step.done) return { verificationId, pages: page };
    if (workflowInfo().continueAsNewSuggested) await continueAsNew<AuditVerificationWorkflow>({ verificationId, page });
  }
}
auditVerificationWorkflow satisfies AuditVerificationWorkflow;

import { Context } from '@temporalio/activity';
import { writeCheckpoint } from '../services/audit/checkpoints';
import { failVerification, verificationPage } from '../services/audit/verifications';
import { PermanentError } from '../services/lib/errors';
import type { AuditCheckpointResult, AuditVerificationInput } from '../workflows/contract';
import type { ActivityDeps } from './index';

/** The audit anchor: signed checkpoints of every chain head, and background verification against them. */
export function createAuditCheckpointActivities(deps: ActivityDeps) {
  return {
    /** Writes the next checkpoint (after checking the chains against the last one); heartbeats per page. */
    async writeAuditCheckpoint(): Promise<AuditCheckpointResult> {
      if (!deps.auditCheckpoints) throw new PermanentError('audit_checkpoints_off', 'This worker has no audit checkpoint key and sink configured');
      const context = Context.current();
      return writeCheckpoint(deps.db, deps.auditCheckpoints, () => context.heartbeat());
    },

    /** One page of a verification; without checkpoint settings only the chains' links are checked. */
    async runAuditVerificationPage(input: Required<AuditVerificationInput>): Promise<{ page: number; done: boolean }> {
      return verificationPage(deps.db, deps.auditCheckpoints, input.verificationId, input.page);
    },

    async failAuditVerification(input: { verificationId: string; error: string }): Promise<void> {
      await failVerification(deps.db, input.verificationId, input.error);
    },
  };
}

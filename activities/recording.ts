import type { EnrolmentStatus } from '../db/schema';
import { appendAudit, type AuditEntry } from '../services/audit';
import { recordProgress } from '../services/enrolments';
import { metrics } from '../services/metrics';
import type { ActivityDeps } from './index';

export interface RecordStepInput {
  audit: AuditEntry & { enrolmentId: string; idempotencyKey: string };
  /** The enrolment row's new current step and status, when they change. */
  progress?: { currentStep?: string | null; status?: EnrolmentStatus };
}

export function createRecordingActivities(deps: ActivityDeps) {
  return {
    /** Writes a step's audit record (once per key) and the enrolment's progress. */
    async recordStep(input: RecordStepInput): Promise<void> {
      await appendAudit(deps.db, input.audit);
      if (input.audit.stepType) metrics.stepsExecuted.inc({ type: input.audit.stepType, outcome: input.audit.outcome });
      if (input.progress) await recordProgress(deps.db, input.audit.enrolmentId, input.progress);
    },
  };
}

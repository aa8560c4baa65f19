import { appendAudit, type AuditEntry } from '../services/audit/records';
import type { EnrolmentProgress } from '../services/enrolment/progress';
import { metrics } from '../services/lib/metrics';
import type { ActivityDeps } from './index';

export interface RecordStepInput {
  audit: AuditEntry & { enrolmentId: string; idempotencyKey: string };
  /** The enrolment row's new current step and status, when they change. */
  progress?: EnrolmentProgress;
}

export function createAuditActivities(deps: ActivityDeps) {
  const recording = {
    /** Writes a step's audit record (once per key) and then the enrolment's progress. */
    async recordStep(input: RecordStepInput): Promise<void> {
      const { progress } = input;
      await appendAudit(deps.db, input.audit, progress);
      if (input.audit.stepType) metrics.stepsExecuted.inc({ type: input.audit.stepType, outcome: input.audit.outcome });
    },

    /**
     * Several records of one enrolment in order (a step's last record and the enrolment's end) in
     * one call; their progress, merged, goes with the last record.
     */
    async recordSteps(inputs: RecordStepInput[]): Promise<void> {
      const progress = Object.assign({}, ...inputs.map((i) => i.progress ?? {})) as EnrolmentProgress;
      for (const [i, input] of inputs.entries()) {
        await recording.recordStep({ audit: input.audit, progress: i === inputs.length - 1 && Object.keys(progress).length > 0 ? progress : undefined });
      }
    },
  };
  return recording;
}

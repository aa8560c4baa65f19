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
  const recording = {
    /** Writes a step's audit record (once per key) and then the enrolment's progress. */
    async recordStep(input: RecordStepInput): Promise<void> {
      const { progress } = input;
      await appendAudit(deps.db, input.audit, progress && (() => recordProgress(deps.db, input.audit.enrolmentId, progress)));
      if (input.audit.stepType) metrics.stepsExecuted.inc({ type: input.audit.stepType, outcome: input.audit.outcome });
    },

    /**
     * Several records of one enrolment in order (a step's last record and the enrolment's end) in
     * one call, then their progress merged into one write.
     */
    async recordSteps(inputs: RecordStepInput[]): Promise<void> {
      for (const input of inputs) await recording.recordStep({ audit: input.audit });
      const progress = Object.assign({}, ...inputs.map((i) => i.progress ?? {})) as NonNullable<RecordStepInput['progress']>;
      if (inputs[0] && Object.keys(progress).length > 0) await recordProgress(deps.db, inputs[0].audit.enrolmentId, progress);
    },
  };
  return recording;
}

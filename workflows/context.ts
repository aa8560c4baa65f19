import { patched, workflowInfo } from '@temporalio/workflow';
import type { EnrolmentStatus } from '../db/schema';
import type { Step } from '../journey-language';
import type { RecordStepInput } from '../activities/audit';
import { local, recording } from './activities';
import { FEWER_ROUND_TRIPS_PATCH, LOCAL_RECORDING_PATCH } from './patches';
import type { EnrolmentInput, EnrolmentState } from './contract';

export interface StepRecord {
  action: string;
  outcome: string;
  providerMessageId?: string;
  consentState?: string;
  templateVersion?: string;
  details?: Record<string, unknown>;
  status?: EnrolmentStatus;
  /** A second record of the same step visit (e.g. a wait's result) needs its own key. */
  suffix?: string;
}

/** What a step handler needs: the enrolment, its idempotency keys and its audit writer. */
export class EnrolmentContext {
  /** Runs started after FEWER_ROUND_TRIPS_PATCH; older histories take the old paths. */
  readonly batching: boolean;
  /** A step's closing record, held for the loop: written alone, or with the end record. */
  private held?: RecordStepInput;

  constructor(readonly input: EnrolmentInput, readonly state: EnrolmentState) {
    this.batching = patched(FEWER_ROUND_TRIPS_PATCH);
  }

  get workflowId(): string {
    return workflowInfo().workflowId;
  }

  /** Journey time to real time: compressed in a test run. */
  scaled(ms: number): number {
    const scale = this.input.sandbox?.timeScale;
    return scale ? Math.max(1, Math.round(ms / scale)) : ms;
  }

  get sandboxed(): boolean {
    return this.input.sandbox !== undefined;
  }

  /** Enters a step: counts the visit so each pass through a loop gets its own keys. */
  enter(step: Step): void {
    this.state.visits[step.id] = (this.state.visits[step.id] ?? 0) + 1;
    this.state.currentStepId = step.id;
  }

  /** `<workflow id>:<step id>:<visit>`: the idempotency key of this step's side effects. */
  keyFor(step: Step): string {
    return `${this.workflowId}:${step.id}:${this.state.visits[step.id] ?? 1}`;
  }

  /** An explicit, readable activity id per step visit and action. */
  activityId(step: Step, action: string): string {
    return `${step.id}:${this.state.visits[step.id] ?? 1}:${action}`;
  }

  /** Writes the step's audit record and moves the enrolment row to this step. */
  async record(step: Step, record: StepRecord): Promise<void> {
    await this.write([this.recordInput(step, record)], `Audit: ${record.action} → ${record.outcome}`,
      this.activityId(step, record.suffix ? `record-${record.suffix}` : 'record'));
  }

  /**
   * The step's closing record, its last act before it returns: held for the journey loop, which
   * writes it before the next step, or together with the end record when the step ends the
   * enrolment (one local activity instead of two).
   */
  async recordOutcome(step: Step, record: StepRecord): Promise<void> {
    if (!this.batching) return this.record(step, record);
    this.held = this.recordInput(step, record);
  }

  /** Writes a held record, if any. */
  async flush(): Promise<void> {
    if (this.held) await this.write([], `Audit: ${this.held.audit.action} → ${this.held.audit.outcome}`);
  }

  /**
   * Writes records in order, after any held one: one local activity for runs with the
   * fewer-round-trips patch (which implies local recording, so it does not ask for that patch:
   * each check costs a marker and a search-attribute write); older runs record one at a time,
   * as they did (`activityId` names their regular activity), and never hold a record.
   */
  async write(records: RecordStepInput[], summary: string, activityId = 'record'): Promise<void> {
    const all = this.held ? [this.held, ...records] : records;
    this.held = undefined;
    if (!this.batching) {
      for (const input of all) await recordStep(activityId, summary, input);
    } else if (all.length === 1) {
      await local.recordStep.executeWithOptions({ summary }, [all[0]!]);
    } else if (all.length > 1) {
      await local.recordSteps.executeWithOptions({ summary }, [all]);
    }
  }

  /** The audit record and progress of a step. */
  recordInput(step: Step, record: StepRecord): RecordStepInput {
    return {
      audit: {
        actor: 'journey', action: record.action, outcome: record.outcome,
        contactId: this.input.contactId, journeyKey: this.input.journeyKey,
        journeyVersion: this.input.journeyVersion, enrolmentId: this.input.enrolmentId,
        workflowId: this.workflowId, stepId: step.id, stepType: step.type,
        idempotencyKey: record.suffix ? `${this.keyFor(step)}:${record.suffix}` : this.keyFor(step),
        test: this.sandboxed, providerMessageId: record.providerMessageId, consentState: record.consentState, templateVersion: record.templateVersion,
        details: record.details,
      },
      progress: { currentStep: step.id, status: record.status },
    };
  }
}

/**
 * Records a step: as a local activity for enrolments started after the change, as a regular
 * activity (with its explicit id) when replaying older histories.
 */
async function recordStep(activityId: string, summary: string, input: RecordStepInput): Promise<void> {
  if (patched(LOCAL_RECORDING_PATCH)) {
    await local.recordStep.executeWithOptions({ summary }, [input]);
  } else {
    await recording.recordStep.executeWithOptions({ activityId, summary }, [input]);
  }
}

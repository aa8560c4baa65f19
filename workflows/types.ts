import type { EnrolmentStatus } from '../db/schema';
import type { JourneyDefinition, StepType } from '../services/journey-definition';

/** What an enrolment workflow starts with; the definition pins the journey version. */
export interface EnrolmentInput {
  enrolmentId: string;
  journeyKey: string;
  journeyVersion: number;
  contactId: string;
  definition: JourneyDefinition;
  /** Carried across continue-as-new. */
  resume?: EnrolmentProgress;
}

export interface PathEntry {
  stepId: string;
  type: StepType;
  at: string;
  outcome: string;
}

export interface EnrolmentProgress {
  nextStepId?: string;
  /** How often each step was entered: makes idempotency keys unique per visit. */
  visits: Record<string, number>;
  /** The most recent steps (the audit log holds all of them). */
  path: PathEntry[];
}

export interface EnrolmentState extends EnrolmentProgress {
  status: EnrolmentStatus;
  currentStepId?: string;
  journeyKey: string;
  journeyVersion: number;
}

export interface EnrolmentResult {
  status: EnrolmentStatus;
  reason?: string;
  path: PathEntry[];
}

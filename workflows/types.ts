import type { EnrolmentStatus } from '../db/schema';
import type { FormField, JourneyDefinition, StepType } from '../services/journey-definition';

/** What an enrolment workflow starts with; the definition pins the journey version. */
export interface EnrolmentInput {
  enrolmentId: string;
  journeyKey: string;
  journeyVersion: number;
  contactId: string;
  definition: JourneyDefinition;
  /** Carried across continue-as-new. */
  resume?: EnrolmentProgress;
  /** Continue as new past this many history events (default 5,000; tests lower it). */
  historyLimit?: number;
  /** A test run: time runs `timeScale` times faster, email is captured, webhooks are not called. */
  sandbox?: { testRunId: string; timeScale: number };
}

/** An event delivered to a running enrolment (signal `journeyEvent`). */
export interface JourneyEvent {
  id: string;
  name: string;
  properties: Record<string, unknown>;
  occurredAt: string;
  /** The contact as it was when the event arrived, for conditions over contact.* fields. */
  contact?: Record<string, unknown>;
}

export interface PathEntry {
  stepId: string;
  type: StepType;
  at: string;
  outcome: string;
}

/** The approval task an enrolment waits on. */
export interface OpenTask {
  taskId: string;
  stepId: string;
  idempotencyKey: string;
  fields: FormField[];
  /** Resolved by the task's creation; undefined while it is being created. */
  deciders?: { userIds: string[]; role?: string };
  escalation?: { userIds: string[]; role?: string };
  /** Set when escalation begins: from then on the escalation target may decide. */
  escalating: boolean;
  decision?: ApprovalDecision;
  /** The decision is stored and audited. */
  recorded: boolean;
}

export interface ApprovalDecision {
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  decidedBy: string;
}

export interface EnrolmentProgress {
  nextStepId?: string;
  /** How often each step was entered: makes idempotency keys unique per visit. */
  visits: Record<string, number>;
  /** The most recent steps (the audit log holds all of them). */
  path: PathEntry[];
  /** Ids of the latest events received, to ignore a delivery twice. */
  seenEventIds: string[];
  variant?: string;
  /** Decisions of approval steps, for later conditions and templates. */
  approvals: Record<string, ApprovalDecision>;
}

export interface EnrolmentEnd {
  status: EnrolmentStatus;
  reason: string;
  eventId?: string;
}

export interface EnrolmentState extends EnrolmentProgress {
  status: EnrolmentStatus;
  currentStepId?: string;
  journeyKey: string;
  journeyVersion: number;
  /** Set when a goal or exit event (or cancellation) ends the enrolment. */
  ending?: EnrolmentEnd;
  /** Events received since the current step began (wait_for_event reads them). */
  inbox: JourneyEvent[];
  openTask?: OpenTask;
}

export interface EnrolmentResult {
  status: EnrolmentStatus;
  reason?: string;
  variant?: string;
  path: PathEntry[];
}

/**
 * The journey workflows' contract: every workflow type, signal, query and update with its
 * argument and result types, and the failures callers can tell apart. The workflows implement it
 * and every caller (services, tests, bench) goes through it: no string names elsewhere.
 * Deterministic code only: the workflow bundle and the API both load it.
 */
import { defineQuery, defineSignal, defineUpdate } from '@temporalio/workflow';
import type { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';
import type { EnrolmentStatus } from '../db/schema';
import type { FormField, JourneyDefinition, StepType } from '../journey-language';
import type { ProcessDefinition, ProcessProgress, RunTask } from '../journey-language';
import type { ProcessRunStatus } from '../db/schema';

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
  /** End `failed` when one step is entered more often than this (default 1,000; tests lower it): a loop that never ends. */
  maxStepVisits?: number;
  /**
   * A test run: time runs `timeScale` times faster, email is captured, webhooks are not called,
   * approvers are not emailed, and its scripted decisions are made as the run's sandbox approver.
   */
  sandbox?: { testRunId: string; timeScale: number; decisions?: ScriptedDecision[] };
}

/**
 * An event delivered to a running enrolment (signal `journeyEvent`): its id, name and time, no
 * personal data. Temporal keeps every signal in the run's history until the namespace's
 * retention ends, beyond the reach of an erasure, so the event's properties and the contact's
 * fields stay in PostgreSQL: a goal, exit or wait_for_event condition over them is decided by an
 * activity that reads them there (`matchEventConditions`) and answers with an index.
 */
export interface JourneyEvent {
  id: string;
  name: string;
  occurredAt: string;
  /**
   * Sent with every event until 2026-11-28, and still in recorded histories: the event's
   * properties. An event that carries them (or `contact`) is decided on what it carries, as then.
   */
  properties?: Record<string, unknown>;
  /** Sent until 2026-11-28: the contact as it was when the event arrived. */
  contact?: Record<string, unknown>;
}

/**
 * The event a running enrolment receives when its contact changed (any write path), if its
 * journey has a state goal or state exits: id and name only, its conditions are decided over the
 * contact as it is now (matchEventConditions).
 */
export const CONTACT_CHANGED_EVENT = 'contact.changed';
/** The event a running enrolment receives when its contact leaves a segment (`properties.segment`). */
export const SEGMENT_LEFT_EVENT = 'segment.left';
export const SEGMENT_ENTERED_EVENT = 'segment.entered';

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
  /** A test run's task: its sandbox approver (`sandboxApprover`) may decide it too. */
  sandboxApprover?: string;
  decision?: ApprovalDecision;
  /** The decision is stored and audited. */
  recorded: boolean;
  /** A task step's task (since TASK_ACCEPTANCE_PATCH): its holder accepts it before completing it. */
  acceptance?: {
    acceptedBy?: string;
    recorded: boolean;
    assignment: number;
    /** How long the holder has to complete it once accepted (ms, scaled), and by when (set as it is accepted: the row's dueAt). */
    completeWithin?: number;
    completeBy?: number;
  };
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
  /**
   * The id of the event the latest wait_for_event received: branches right after it read it as
   * `event.*` (publishing allows that only there), by id, through their activity.
   */
  eventAtHand?: string;
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

/** A test run's scripted event, delivered at `atMs` (journey time, compressed) after the run starts. */
export interface ScriptedEvent {
  contactId: string;
  name: string;
  properties: Record<string, unknown>;
  atMs: number;
}

/**
 * A test run's scripted decision on one approval step of one contact: the n-th decision for a
 * step decides its n-th task, once the task is open and `at` (epoch ms, compressed journey time
 * after the run's start) has come.
 */
export interface ScriptedDecision {
  stepId: string;
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  at: number;
}

export const SANDBOX_APPROVER_PREFIX = 'test-run:';

/**
 * The synthetic approver who makes a test run's scripted decisions. Only a task of that run's
 * sandbox enrolments accepts it; a real enrolment refuses every `test-run:` actor.
 */
export function sandboxApprover(testRunId: string): string {
  return `${SANDBOX_APPROVER_PREFIX}${testRunId}`;
}

/** An approver's decision on an open approval task (update `decideTask`). */
export interface DecisionInput {
  taskId: string;
  decision: 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
  /**
   * Only who decides. Who may decide was resolved by activities when the task opened (role
   * members included) and at escalation, and is kept in the workflow's state: the caller's
   * claims about roles are not trusted. (`roles`, which older callers sent, is ignored.)
   */
  actor: { userId: string; roles?: string[] };
}

export interface DecisionResult {
  status: 'approved' | 'rejected';
}

/**
 * Why `decideTask` refused a decision: the `type` of the ApplicationFailure its validator or
 * handler throws. `details[0]` carries the form problems of `InvalidValues`.
 */
export const DecisionRefusal = {
  /** The task is not open any more (decided, expired, or its enrolment ended). */
  taskClosed: 'TaskClosed',
  /** The caller is neither an assigned approver nor (once escalated) the escalation target. */
  notAllowed: 'NotAllowed',
  /** The form values do not match the task's fields. */
  invalidValues: 'InvalidValues',
  /** A task step's task is completed only once its holder accepted it. */
  notAccepted: 'NotAccepted',
} as const;
export type DecisionRefusalType = (typeof DecisionRefusal)[keyof typeof DecisionRefusal];

/** The failure type an activity raises for an error no retry can fix (non-retryable). */
export const PERMANENT_FAILURE = 'PermanentStepFailure';

export const journeyEventSignal = defineSignal<[JourneyEvent]>('journeyEvent');
export const cancelEnrolmentSignal = defineSignal<[{ reason: string }]>('cancelEnrolment');
export const enrolmentStateQuery = defineQuery<EnrolmentState>('enrolmentState');
/** The decision of an approval task; callers use the task id as the update id. */
export const decideTaskUpdate = defineUpdate<DecisionResult, [DecisionInput]>('decideTask');
/** A task step's holder accepts (claims) its open task (update `acceptTask`); callers use `<task>:accept:<user>` as the update id. */
export const acceptTaskUpdate = defineUpdate<{ status: 'accepted' }, [{ taskId: string; actor: { userId: string } }]>('acceptTask');

export type JourneyWorkflow = (input: EnrolmentInput) => Promise<EnrolmentResult>;
export type TestRunScriptWorkflow = (input: { events: ScriptedEvent[] }) => Promise<void>;
/**
 * A scan of every contact that decides membership of one segment (`segmentKey`: after a publish)
 * or of every time-relative one (absent: the segments Schedule), a page per activity; carries
 * its cursor (a contact id) and counts across continue-as-new. No contact data enters the history.
 */
export interface SegmentRefreshInput {
  segmentKey?: string;
  after?: string;
  /** Contacts per page (default 200, at most 500). */
  pageSize?: number;
  /** Pages before the run continues as new (default 100; tests lower it). */
  pagesPerRun?: number;
  scanned?: number;
  entered?: number;
  left?: number;
}
export interface SegmentRefreshResult {
  scanned: number;
  entered: number;
  left: number;
}
export type SegmentRefreshWorkflow = (input: SegmentRefreshInput) => Promise<SegmentRefreshResult>;
export type ScheduledEnrolmentWorkflow = (input: { journeyKey: string }) => Promise<{ enrolled: number; matched: number }>;

/** What a process's Temporal Schedule starts its workflow with at each time (docs/processes.md). */
export interface ScheduledProcessStartInput {
  processKey: string;
  scheduleId: string;
  inputs: Record<string, unknown>;
}
/** One scheduled time's start: the run (its id derived from the scheduled workflow's id), or why it was skipped. */
export interface ScheduledProcessStart {
  outcome: 'started' | 'skipped';
  runId: string;
  reason?: string;
}
export type ScheduledProcessStartWorkflow = (input: ScheduledProcessStartInput) => Promise<ScheduledProcessStart>;

/** A signed checkpoint of every audit chain head, as written to the write-once sink. */
export interface AuditCheckpointResult {
  name: string;
  location: string;
  keyId: string;
  createdAt: string;
  chains: number;
  records: number;
  headsDigest: string;
}
/** Started by the audit checkpoint Schedule: checks the chains against the last checkpoint, then writes the next. */
export type AuditCheckpointWorkflow = () => Promise<AuditCheckpointResult>;

/** A background verification of the audit chains (a row of audit_verifications); `page` carries across continue-as-new. */
export interface AuditVerificationInput {
  verificationId: string;
  page?: number;
}
export type AuditVerificationWorkflow = (input: AuditVerificationInput) => Promise<{ verificationId: string; pages: number }>;

/** What a process run's workflow (`process:<key>:<runId>`) starts with; the definition pins the version. */
export interface ProcessRunInput {
  runId: string;
  processKey: string;
  version: number;
  definition: ProcessDefinition;
  /** The run's inputs (checked against the definition's `inputs`): what its conditions read as `run.inputs.*`. */
  inputs: Record<string, unknown>;
  /** Set when the run reviews something under a policy: its end publishes the journey draft or decides the template version. */
  review?: ReviewSubject;
}

/** What a review run decides on, by kind; `kind` is absent in journey reviews started before template reviews existed. */
export type ReviewSubject = JourneyReviewSubject | TemplateReviewSubject;
export type ReviewKind = NonNullable<ReviewSubject['kind']>;

/** The journey draft a review run decides on, and who may not approve it (four eyes). */
export interface JourneyReviewSubject {
  kind?: 'journey';
  journeyKey: string;
  /** The version the draft would become. */
  version: number;
  /** SHA-256 of the draft: a draft changed since is not published. */
  digest: string;
  /** Who last edited the draft (`user:<id>` or `api_key:<id>`). */
  editedBy: string;
  /** User ids that may not approve: whoever last edited the draft. */
  excludedApprovers: string[];
}

/** A template version saved under a review policy: approved, it becomes usable; rejected, it never is. */
export interface TemplateReviewSubject {
  kind: 'template';
  templateKey: string;
  version: number;
  /** Who saved the version (`user:<id>` or `api_key:<id>`). */
  savedBy: string;
  /** User ids that may not approve: whoever saved the version. */
  excludedApprovers: string[];
}

export interface ProcessRunState {
  runId: string;
  processKey: string;
  version: number;
  status: ProcessRunStatus;
  /** Epoch ms (workflow clock). */
  startedAt: number;
  tasks: Record<string, RunTask>;
  progress: ProcessProgress;
}

/** Completing a checklist task, filling a form, or an approver's decision (update `actOnProcessTask`); callers use `<task>:<user>` as the update id. */
export interface ProcessTaskAction {
  taskId: string;
  action: 'complete' | 'approve' | 'reject';
  values: Record<string, unknown>;
  comment?: string;
  actor: { userId: string };
}

/** Why `actOnProcessTask` (or `changeProcessTaskDue`) refused: DecisionRefusal's types, an action the task's kind does not take, a due time in the past. */
export const ProcessTaskRefusal = { ...DecisionRefusal, wrongAction: 'WrongAction', fourEyes: 'FourEyes', dueInPast: 'DueInPast' } as const;

/**
 * An operator moves an open task's due time (update `changeProcessTaskDue`): `dueAt` an ISO
 * instant in the future, or null for no due time; `reason` why (stored in the run's audit chain as
 * written); `actor` who (`user:<id>` or `api_key:<id>`).
 */
export interface ProcessTaskDueChange {
  taskId: string;
  dueAt: string | null;
  reason: string;
  actor: string;
}
/** The task's due time after the change, whether it is overdue, and which change of the task's due time this was (1, 2, …). */
export interface ProcessTaskDueChanged {
  dueAt: string | null;
  overdue: boolean;
  change: number;
}

export const processRunStateQuery = defineQuery<ProcessRunState>('processRunState');
export const actOnProcessTaskUpdate = defineUpdate<{ status: RunTask['status'] }, [ProcessTaskAction]>('actOnProcessTask');
export const changeProcessTaskDueUpdate = defineUpdate<ProcessTaskDueChanged, [ProcessTaskDueChange]>('changeProcessTaskDue');
export type ProcessWorkflow = (input: ProcessRunInput) => Promise<{ status: ProcessRunStatus; done: number; total: number }>;

/**
 * A workflow type as a caller sees it: its name bound to its signature, so
 * `client.workflow.start(journeyWorkflow, { args: [input] })` is type-checked without loading
 * the implementation. The worker registers the implementation of the same name (workflows/index.ts
 * exports them; test/unit/workflow-contract.test.ts checks the names and signatures match).
 */
function workflowType<T extends (...args: never[]) => Promise<unknown>>(name: string): T {
  const standIn = () => {
    throw new Error(`${name} runs in a Temporal worker: start it with a client`);
  };
  Object.defineProperty(standIn, 'name', { value: name });
  return standIn as unknown as T;
}

export const journeyWorkflow = workflowType<JourneyWorkflow>('journeyWorkflow');
export const testRunScriptWorkflow = workflowType<TestRunScriptWorkflow>('testRunScriptWorkflow');
export const scheduledEnrolmentWorkflow = workflowType<ScheduledEnrolmentWorkflow>('scheduledEnrolmentWorkflow');
export const segmentRefreshWorkflow = workflowType<SegmentRefreshWorkflow>('segmentRefreshWorkflow');
export const auditCheckpointWorkflow = workflowType<AuditCheckpointWorkflow>('auditCheckpointWorkflow');
export const auditVerificationWorkflow = workflowType<AuditVerificationWorkflow>('auditVerificationWorkflow');
export const processWorkflow = workflowType<ProcessWorkflow>('processWorkflow');
export const scheduledProcessStartWorkflow = workflowType<ScheduledProcessStartWorkflow>('scheduledProcessStartWorkflow');

/** A typed search attribute key (what `defineSearchAttributeKey` of @temporalio/common returns). */
const searchAttribute = <T extends SearchAttributeType>(name: string, type: T): ReturnType<typeof defineSearchAttributeKey<T>> => ({ name, type });

/** Typed search attributes that let operators find a run in the Temporal Web UI. */
export const JourneyKey = searchAttribute('JourneyKey', 'KEYWORD');
export const JourneyVersion = searchAttribute('JourneyVersion', 'INT');
export const ContactId = searchAttribute('ContactId', 'KEYWORD');
export const JourneyStep = searchAttribute('JourneyStep', 'KEYWORD');
/** Named EnrolmentStatus in Temporal; `EnrolmentStatus` here is the status type. */
export const EnrolmentStatusKey = searchAttribute('EnrolmentStatus', 'KEYWORD');

/** A process run's process, the task it rests on (the first open one), and who holds that task (a user id or `role:<role>`). */
export const ProcessKey = searchAttribute('ProcessKey', 'KEYWORD');
export const ProcessTask = searchAttribute('ProcessTask', 'KEYWORD');
export const Assignee = searchAttribute('Assignee', 'KEYWORD');

export const JOURNEY_SEARCH_ATTRIBUTES = [JourneyKey, JourneyVersion, ContactId, JourneyStep, EnrolmentStatusKey, ProcessKey, ProcessTask, Assignee];

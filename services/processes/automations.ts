import { durationToMs, JourneyKeySchema, type ProcessAutomation, type ProcessAutomationAction, type ValueRef } from '../../journey-language';
import type { JourneyReviewSubject, ReviewSubject } from '../../workflows/contract';
import type { Mailer } from '../email/mailer';
import type { EmailSettings } from '../email/delivery';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { getJourney, getVersion, publishJourney, setJourneyStatus } from '../journeys/journeys';
import { concludeJourneyReview, requestReview, reviewProcessOf } from '../journeys/reviews';
import { syncJourneySchedule } from '../journeys/schedules';
import { DomainError, isPermanent, PermanentError } from '../lib/errors';
import { deliverWebhook, renderJson } from '../webhooks/delivery';
import type { WebhookTargets } from '../webhooks/transport';
import { enrolSegment, updateSegmentContacts } from './automation-contacts';
import { sendAutomationEmail } from './automation-email';
import { auditRun, type RunRef } from './run-tasks';

/**
 * A process task's automation, run once by the run's workflow through one activity when the task
 * finishes (docs/processes.md#automations). Each action goes through the service the API or a
 * journey step uses, idempotent by `<workflowId>:<taskId>:automation:<index>`, and its outcome
 * goes into the run's chain: `process.automation_done` with what it did, or
 * `process.automation_failed` with the error. A permanent error (a key nobody has, a forbidden
 * host, a refused review) is recorded and the run goes on; anything else is thrown so the
 * activity retries it with backoff.
 */
export interface AutomationDeps extends EnrolDeps {
  mailer: Mailer;
  email: EmailSettings;
  webhookSecret: string;
  webhookTargets: WebhookTargets;
  /** JOURNEY_REVIEW_PROCESS: a journey under it is published through its review, as by the API. */
  journeyReviewProcess?: string;
}

export interface AutomationRun extends RunRef {
  taskId: string;
  /** The status the task finished with. */
  taskStatus: string;
  index: number;
  automation: ProcessAutomation;
  inputs: Record<string, unknown>;
  /** Finished tasks' status and values, as `task.<id>.*` reads them. */
  tasks: Record<string, { status: string; values: Record<string, unknown> }>;
  /** What the run reviews (a review run): a journey's draft or a template version. */
  review?: ReviewSubject;
}

export type AutomationOutcome = { outcome: 'done'; result: Record<string, unknown> } | { outcome: 'failed'; code: string; error: string };

/** Codes of a 409 a later attempt may see differently; other 4xx answers are the definition's or the data's, permanent. */
const TRANSIENT_CONFLICTS = new Set(['enrolment_conflict', 'review_pending']);

const permanent = (err: unknown): err is PermanentError | DomainError =>
  isPermanent(err) || (err instanceof DomainError && err.status === 409 && !TRANSIENT_CONFLICTS.has(err.code));

/** The key an automation's side effects are idempotent by. */
export const automationKey = (run: Pick<AutomationRun, 'workflowId' | 'taskId' | 'index'>) => `${run.workflowId}:${run.taskId}:automation:${run.index}`;

export async function runAutomation(deps: AutomationDeps, run: AutomationRun): Promise<AutomationOutcome> {
  const base = { index: run.index, on: run.automation.on, type: run.automation.do.type, taskStatus: run.taskStatus };
  const task = { taskId: run.taskId };
  const suffix = `${run.taskId}:automation:${run.index}`;
  let result: Record<string, unknown>;
  try {
    result = await perform(deps, run, run.automation.do);
  } catch (err) {
    if (!permanent(err)) throw err;
    await auditRun(deps.db, run, 'process.automation_failed', 'failed', suffix, { ...base, code: err.code, error: err.message }, task);
    return { outcome: 'failed', code: err.code, error: err.message };
  }
  await auditRun(deps.db, run, 'process.automation_done', 'done', suffix, { ...base, ...result }, task);
  return { outcome: 'done', result };
}

/** Runs one action. Exhaustive: a new automation type does not compile until it is handled here. */
function perform(deps: AutomationDeps, run: AutomationRun, action: ProcessAutomationAction): Promise<Record<string, unknown>> {
  switch (action.type) {
    case 'publish_journey':
      return publish(deps, run, action.journey === undefined ? undefined : journeyKeyOf(run, action.journey));
    case 'pause_journey':
    case 'resume_journey':
      return setStatus(deps, run, journeyKeyOf(run, action.journey), action.type === 'pause_journey' ? 'paused' : 'active');
    case 'enrol_segment':
      return enrolSegment(deps, automationKey(run), `process:${run.runId}`, action.segment, journeyKeyOf(run, action.journey));
    case 'update_contacts':
      return updateSegmentContacts(deps, automationKey(run), action.segment, { set: action.set, addTags: action.addTags, removeTags: action.removeTags, scoreDelta: action.scoreDelta });
    case 'webhook':
      return callWebhook(deps, run, action);
    case 'send_email':
      return sendAutomationEmail(deps, run, automationKey(run), scopeOf(run), action, (ref) => valueOf(run, ref));
    default: {
      const unhandled: never = action;
      throw new Error(`No automation ${JSON.stringify(unhandled)}`);
    }
  }
}

/** A value the run holds, as a reference names it. */
export function valueOf(run: Pick<AutomationRun, 'inputs' | 'tasks'>, ref: ValueRef): unknown {
  const parts = ref.from.split('.');
  const found = parts[0] === 'run' ? run.inputs[parts[2]!] : run.tasks[parts[1]!]?.values[parts[3]!];
  if (found === undefined || found === null || found === '') throw new PermanentError('missing_value', `${ref.from} has no value`);
  return found;
}

function journeyKeyOf(run: AutomationRun, journey: string | ValueRef): string {
  if (typeof journey === 'string') return journey;
  const parsed = JourneyKeySchema.safeParse(valueOf(run, journey));
  if (!parsed.success) throw new PermanentError('invalid_value', `${journey.from} is not a journey key`);
  return parsed.data;
}

/** What Liquid in a webhook body or an email reads: the process, the run's inputs, finished tasks. */
function scopeOf(run: AutomationRun): Record<string, unknown> {
  return { process: { key: run.processKey, runId: run.runId, task: run.taskId }, run: { inputs: run.inputs }, task: run.tasks };
}

/**
 * Publishes a journey. The journey a review run reviews is published as its review concludes
 * (exactly the reviewed draft); a journey under a review policy otherwise gets a review started,
 * as the API's publish does, so no process publishes around a policy.
 */
async function publish(deps: AutomationDeps, run: AutomationRun, named: string | undefined): Promise<Record<string, unknown>> {
  const reviewed: JourneyReviewSubject | undefined = run.review && run.review.kind !== 'template' ? run.review : undefined;
  const key = named ?? reviewed?.journeyKey;
  if (key === undefined) throw new PermanentError('no_journey', 'this run reviews no journey: name the journey to publish');
  const reviewDeps = { ...deps, webhookAllowedHosts: deps.webhookTargets.allowedHosts };
  if (reviewed && key === reviewed.journeyKey) {
    const review = await concludeJourneyReview(reviewDeps, { ...run, status: 'completed', review: reviewed, byTask: run.taskId });
    if (review.outcome !== 'published') throw new PermanentError(`review_${review.outcome}`, review.reason ?? `the review was ${review.outcome}`);
    return { journey: key, version: review.publishedVersion, reviewed: true };
  }
  const journey = await getJourney(deps.db, key);
  const policy = reviewProcessOf(journey, deps.journeyReviewProcess);
  if (policy) {
    const review = await requestReview(reviewDeps, journey, policy, `process:${run.runId}`);
    return { journey: key, reviewRequested: { processKey: policy, runId: review.runId } };
  }
  const published = await publishJourney(deps.db, key, reviewDeps.webhookAllowedHosts, `process:${run.runId}`);
  await syncJourneySchedule(deps, published.journey, (await getVersion(deps.db, published.journey.id, published.version)).definition);
  return { journey: key, version: published.version, created: published.created };
}

/** Pauses or resumes a journey, as the API does (immediate, audited as journey.paused / journey.resumed). */
async function setStatus(deps: AutomationDeps, run: AutomationRun, key: string, status: 'paused' | 'active'): Promise<Record<string, unknown>> {
  const journey = await setJourneyStatus(deps.db, key, status, `process:${run.runId}`);
  if (journey.latestVersion !== null) await syncJourneySchedule(deps, journey, (await getVersion(deps.db, journey.id, journey.latestVersion)).definition);
  return { journey: key, status };
}

/** A signed webhook, once per key, through the webhook layer's target checks; a refusal or a 4xx answer is permanent. */
async function callWebhook(deps: AutomationDeps, run: AutomationRun, action: Extract<ProcessAutomationAction, { type: 'webhook' }>) {
  const scope = scopeOf(run);
  // The definition's body is the template; the default body is data and is never rendered.
  const body = action.body ? await renderJson(action.body, scope)
    : { event: 'process.automation', ...(scope.process as object), taskStatus: run.taskStatus, values: run.tasks[run.taskId]?.values ?? {} };
  const result = await deliverWebhook(deps.db, deps.webhookSecret, {
    idempotencyKey: automationKey(run), url: action.url, body, timeoutMs: durationToMs(action.timeout) ?? 10_000,
  }, deps.webhookTargets);
  if (result.status === 'rejected') throw new PermanentError('webhook_rejected', `the receiver answered ${result.responseStatus}`);
  if (result.status === 'unknown') throw new PermanentError('webhook_unknown', 'an earlier attempt was cut off mid-request; it is not repeated');
  return { responseStatus: result.responseStatus, replayed: result.replayed };
}


import { randomUUID } from 'node:crypto';
import { and, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { emailTemplates, templateReviewPolicies, type ProcessRunRow, type TemplateRow } from '../../db/schema';
import type { TemplateReviewSubject } from '../../workflows/contract';
import { appendAudit } from '../audit/records';
import { conflict } from '../lib/errors';
import { getProcess } from '../processes/definitions';
import { excludedApproversOf, type ReviewEnd } from '../processes/review-subjects';
import { startRun, type ProcessDeps } from '../processes/runs';
import type { EmailContent } from './content';
import { createTemplateVersion } from './templates';

/**
 * Template review policy: a template under review (its own policy, or TEMPLATE_REVIEW_PROCESS for
 * every template) stores each new version as `pending_review` and starts a run of the review
 * process. Only approved versions are pinned by a journey publish, so only they are sent. The
 * run's end approves the version (completed) or rejects it (rejected). Whoever saved the version
 * may not approve it (four eyes, checked by the run's workflow). The run's audit chain holds
 * `template.review_requested`, the process's decisions, then `template.review_approved` or
 * `template.review_rejected`.
 */

/** The process that must approve this template's new versions, if any. */
export async function templateReviewProcessOf(db: Database, key: string, configured: string | undefined): Promise<string | undefined> {
  const [policy] = await db.select().from(templateReviewPolicies).where(eq(templateReviewPolicies.key, key));
  return policy?.reviewProcess ?? configured;
}

/**
 * Sets the template's review process; the template need not have a version yet (its first is then
 * reviewed too). A policy is never lifted or swapped through the API: another process is a 409.
 */
export async function setTemplateReviewProcess(db: Database, key: string, processKey: string, actor: string): Promise<string> {
  await getProcess(db, processKey);
  const [inserted] = await db.insert(templateReviewPolicies).values({ key, reviewProcess: processKey, setBy: actor }).onConflictDoNothing().returning();
  if (!inserted) {
    const [current] = await db.select().from(templateReviewPolicies).where(eq(templateReviewPolicies.key, key));
    if (current?.reviewProcess === processKey) return processKey;
    throw conflict('review_policy_set', `The template "${key}" is reviewed by "${current?.reviewProcess}" already; an operator changes a policy`);
  }
  await appendAudit(db, { actor, action: 'template.review_policy_set', outcome: 'set', details: { templateKey: key, processKey } });
  return processKey;
}

export interface SavedTemplate {
  version: TemplateRow;
  /** The review run, when the version waits for its review. */
  run?: ProcessRunRow;
}

/**
 * Saves a new version: approved at once without a policy; under one, stored `pending_review` and
 * reviewed by a new run of the process (its run id written with the version first). A run that
 * cannot start (say, 409 process_not_published) takes its version away again.
 */
export async function saveTemplateVersion(
  deps: ProcessDeps, key: string, content: EmailContent, savedBy: string, configuredProcess: string | undefined,
): Promise<SavedTemplate> {
  const processKey = await templateReviewProcessOf(deps.db, key, configuredProcess);
  if (!processKey) return { version: await createTemplateVersion(deps.db, key, content, { savedBy }) };
  const runId = randomUUID();
  const version = await createTemplateVersion(deps.db, key, content, { savedBy, review: { processKey, runId } });
  const subject: TemplateReviewSubject = {
    kind: 'template', templateKey: key, version: version.version, savedBy, excludedApprovers: excludedApproversOf(savedBy),
  };
  let run;
  try {
    run = await startRun(deps, processKey, { template: key, version: version.version, editor: savedBy }, savedBy, { runId, subject });
  } catch (err) {
    await deps.db.delete(emailTemplates).where(and(eq(emailTemplates.key, key), eq(emailTemplates.version, version.version), eq(emailTemplates.reviewRunId, runId)));
    throw err;
  }
  await appendAudit(deps.db, {
    actor: savedBy, action: 'template.review_requested', outcome: 'pending', processRunId: run.id, workflowId: run.workflowId,
    idempotencyKey: `${run.workflowId}:review-requested`, details: { processKey, runId: run.id, templateKey: key, version: version.version, savedBy },
  });
  return { version, run };
}

/**
 * A template review run's end: completed approves the version (journeys publishing from then on
 * pin it), rejected leaves it rejected, never usable. Once per run: a retry returns the recorded
 * outcome and appends nothing new (the audit record is idempotent by the run).
 */
export async function concludeTemplateReview(db: Database, end: ReviewEnd<TemplateReviewSubject>): Promise<TemplateRow> {
  const { templateKey, version } = end.review;
  const status = end.status === 'completed' ? 'approved' : 'rejected';
  const [decided] = await db.update(emailTemplates).set({ status, decidedAt: sql`now()` })
    .where(and(eq(emailTemplates.key, templateKey), eq(emailTemplates.version, version), eq(emailTemplates.reviewRunId, end.runId), eq(emailTemplates.status, 'pending_review')))
    .returning();
  const [row] = decided ? [decided] : await db.select().from(emailTemplates)
    .where(and(eq(emailTemplates.key, templateKey), eq(emailTemplates.version, version), eq(emailTemplates.reviewRunId, end.runId)));
  if (!row) throw new Error(`No template version under review by run ${end.runId}`);
  await appendAudit(db, {
    actor: 'process', action: `template.review_${row.status}`, outcome: row.status, processRunId: end.runId, workflowId: end.workflowId,
    idempotencyKey: `${end.workflowId}:review-concluded`,
    details: { processKey: end.processKey, runId: end.runId, runStatus: end.status, templateKey, version, savedBy: end.review.savedBy },
  });
  return row;
}

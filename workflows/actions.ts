import { workflowInfo } from '@temporalio/workflow';
import { msOf } from '../journey-language/interpreter';
import type { AssignOwnerStep, NotifyStep, SendEmailStep } from '../journey-language';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import { awaitSendingWindow } from './sending-window';
import type { StepOutcome } from './steps';

/** Emails run on the `<task queue>-email` queue, whose worker has a server-side rate limit. */
export function emailTaskQueue(): string {
  return `${workflowInfo().taskQueue}-email`;
}

export async function sendEmail(step: SendEmailStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const capDelay = (step.whenCapped ?? ctx.input.definition.whenCapped) === 'delay';
  if (step.category === 'marketing' && await awaitSendingWindow(step, ctx, capDelay)) return { outcome: 'interrupted' };
  const result = await actions.sendEmail.executeWithOptions(
    { activityId: ctx.activityId(step, 'send'), taskQueue: emailTaskQueue(), summary: `Send email "${step.template ?? step.subject}"` },
    [{
      idempotencyKey: ctx.keyFor(step), enrolmentId: ctx.input.enrolmentId, contactId: ctx.input.contactId,
      journeyKey: ctx.input.journeyKey, stepId: step.id, category: step.category, topic: step.topic,
      transactionalReason: step.transactionalReason,
      template: step.template ? { key: step.template, version: step.templateVersion! } : undefined,
      content: step.template ? undefined : { subject: step.subject!, text: step.text!, html: step.html },
      approvals: Object.keys(ctx.state.approvals).length ? ctx.state.approvals : undefined,
      sandbox: ctx.sandboxed || undefined,
    }],
  );
  await ctx.recordOutcome(step, {
    action: `email.${result.status}`, outcome: result.status, providerMessageId: result.providerMessageId,
    consentState: result.consentState, templateVersion: step.template ? `${step.template}@${step.templateVersion}` : undefined,
    details: {
      reason: result.reason ?? null, replayed: result.replayed, consent: result.consentState ?? null,
      template: step.template ? `${step.template}@${step.templateVersion}` : null, category: step.category,
      // The send-time checks (GET /v1/emails/<idempotency key>/evidence shows them with the consent record).
      checks: result.checks ?? null,
    },
  });
  return { outcome: result.status, next: step.next };
}

export async function assignOwner(step: AssignOwnerStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const result = await actions.assignOwner.executeWithOptions(
    { activityId: ctx.activityId(step, 'assign'), summary: `Assign an owner (round-robin over ${step.pool.length})` },
    [{
      idempotencyKey: ctx.keyFor(step), contactId: ctx.input.contactId, pool: step.pool,
      poolKey: step.poolKey ?? `${ctx.input.journeyKey}:${step.id}`, onlyIfUnassigned: step.onlyIfUnassigned,
    }],
  );
  const outcome = result.assigned ? 'assigned' : result.reason ?? 'unchanged';
  await ctx.recordOutcome(step, { action: 'owner.assigned', outcome, details: { owner: result.owner } });
  return { outcome, next: step.next };
}

export async function notify(step: NotifyStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  if (ctx.sandboxed) {
    await ctx.recordOutcome(step, { action: 'webhook.sandboxed', outcome: 'sandboxed', details: { url: step.url, format: step.format } });
    return { outcome: 'sandboxed', next: step.next };
  }
  const result = await actions.notify.executeWithOptions(
    { activityId: ctx.activityId(step, 'notify'), summary: `Webhook to ${new URL(step.url).host}` },
    [{
      idempotencyKey: ctx.keyFor(step), contactId: ctx.input.contactId, enrolmentId: ctx.input.enrolmentId, journeyKey: ctx.input.journeyKey, stepId: step.id,
      url: step.url, format: step.format, body: step.body, text: step.text, timeoutMs: msOf(step.timeout),
    }],
  );
  await ctx.recordOutcome(step, {
    action: `webhook.${result.status}`, outcome: result.status,
    details: { url: step.url, responseStatus: 'responseStatus' in result ? result.responseStatus : null, replayed: result.replayed },
  });
  return { outcome: result.status, next: step.next };
}

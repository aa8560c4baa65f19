import { condition } from '@temporalio/workflow';
import { evaluate, msOf } from '../journey-language/interpreter';
import type { WaitForEventStep, WaitStep } from '../journey-language';
import { actions } from './activities';
import type { EnrolmentContext } from './context';
import type { JourneyEvent } from './contract';
import { carriesFacts, factsOf, firstHoldingById } from './events';
import type { StepOutcome } from './steps';

/** Sleeps until `untilMs` unless a goal or exit event ends the enrolment first. */
async function interruptibleSleep(ctx: EnrolmentContext, ms: number, summary: string): Promise<boolean> {
  if (ms <= 0) return ctx.state.ending !== undefined;
  return condition(() => ctx.state.ending !== undefined, ms, { summary });
}

/** A fixed delay, or until a time of day / weekday in the contact's time zone (quiet hours). */
export async function wait(step: WaitStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  // The workflow clock (the time of this workflow task), identical on every replay.
  const now = Date.now();
  let untilMs: number;
  let summary: string;
  if (step.duration) {
    untilMs = now + ctx.scaled(msOf(step.duration));
    summary = `Wait ${step.duration} (step ${step.id})`;
  } else {
    const until = await actions.computeWaitUntil.executeWithOptions(
      { activityId: ctx.activityId(step, 'until'), summary: "Compute the wait's end in the contact's time zone" },
      [{ contactId: ctx.input.contactId, until: step.until!, from: new Date(now).toISOString() }],
    );
    untilMs = now + ctx.scaled(Math.max(0, Date.parse(until.at) - now));
    summary = `Wait until ${until.at} (${until.timezone}, step ${step.id})`;
  }
  const until = new Date(untilMs).toISOString();
  await ctx.record(step, { action: 'wait.started', outcome: 'waiting', details: { duration: step.duration ?? null, until } });
  const interrupted = await interruptibleSleep(ctx, untilMs - Date.now(), `${summary}, until ${until}`);
  return { outcome: interrupted ? 'interrupted' : 'waited', next: step.next };
}

/**
 * Waits for a matching event (received after the step began) or the timeout. An event that
 * carries its facts is matched here; one that does not, with a condition to decide, wakes the
 * wait, is decided by an activity (events.ts) and, if its condition does not hold, the wait goes
 * on for the time left.
 */
export async function waitForEvent(step: WaitForEventStep, ctx: EnrolmentContext): Promise<StepOutcome> {
  const timeoutMs = ctx.scaled(msOf(step.timeout));
  const until = new Date(Date.now() + timeoutMs).toISOString();
  ctx.state.inbox = [];
  await ctx.record(step, { action: 'wait_for_event.started', outcome: 'waiting', details: { event: step.event, until } });
  const refused = new Set<string>();
  const candidate = () => ctx.state.inbox.find((e) => e.name === step.event && !refused.has(e.id)
    && (!carriesFacts(e) || !step.condition || evaluate(step.condition, factsOf(e))));
  const waitStart = Date.now();
  let event: JourneyEvent | undefined;
  for (let first = true; ; first = false) {
    // The first wait is the whole timeout, as it always was (recorded histories replay it).
    const left = first ? timeoutMs : timeoutMs - (Date.now() - waitStart);
    const done = (first || left > 0) && await condition(() => ctx.state.ending !== undefined || candidate() !== undefined, left,
      { summary: `Wait for "${step.event}" until ${until} (step ${step.id})` });
    if (ctx.state.ending) return { outcome: 'interrupted' };
    if (!done) break;
    const found = candidate()!;
    if (carriesFacts(found) || !step.condition || (await firstHoldingById(ctx.input, found, [step.condition])) === 0) {
      event = found;
      break;
    }
    refused.add(found.id);
  }
  if (ctx.state.ending) return { outcome: 'interrupted' };
  // A branch right after this step may read it as `event.*` (its activity reads it by id).
  if (event) ctx.state.eventAtHand = event.id;
  await ctx.recordOutcome(step, {
    action: event ? 'wait_for_event.received' : 'wait_for_event.timed_out',
    outcome: event ? 'received' : 'timed_out',
    details: event ? { eventId: event.id, event: event.name } : { event: step.event },
    suffix: 'result',
  });
  return event ? { outcome: 'received', next: step.next } : { outcome: 'timed_out', next: step.onTimeout };
}

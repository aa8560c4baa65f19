/**
 * Baselines for `npm run bench`: what a hand-written Temporal integration would do, with none of
 * Nurture's interpretation, audit or bookkeeping.
 */
import { condition, defineSignal, proxyActivities, proxySinks, setHandler, sleep, type Sinks } from '@temporalio/workflow';
import type { BaselineActivities } from './baseline-activities';

const { sendBaselineEmail, updateBaselineContact } = proxyActivities<BaselineActivities>({ startToCloseTimeout: '1 minute' });

export async function emptyWorkflow(): Promise<void> {
  // Nothing: the cost of starting a workflow.
}

/** condition → email → update_contact, written by hand. */
export async function handWrittenJourney(input: { contactId: string; score: number; key: string }): Promise<void> {
  if (input.score >= 0) await sendBaselineEmail({ contactId: input.contactId, key: `${input.key}:email` });
  await updateBaselineContact({ contactId: input.contactId, key: `${input.key}:update` });
}

export const wake = defineSignal('wake');

/** Waits for a signal, then sends an email: the raw signal-to-activity round trip. */
export async function signalThenEmail(input: { contactId: string; key: string }): Promise<void> {
  let woken = false;
  setHandler(wake, () => { woken = true; });
  await condition(() => woken);
  await sendBaselineEmail({ contactId: input.contactId, key: `${input.key}:email` });
}

export interface BenchSinks extends Sinks {
  bench: { asleep(): void };
}
const { bench } = proxySinks<BenchSinks>();

/** Sleeps for an hour after telling its worker process (through a sink, outside history) that it sleeps. */
export async function sleepingWorkflow(): Promise<void> {
  bench.asleep();
  await sleep('1 hour');
}

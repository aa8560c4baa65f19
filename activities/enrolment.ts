import { findContact } from '../services/contacts/contacts';
import { enrolSegmentPage } from '../services/contacts/segments';
import { decideBranch, type BranchDecisionRequest } from '../services/enrolment/branch-decisions';
import { nextAllowedInstant, type WaitUntil } from '../services/enrolment/quiet-hours';
import { metrics } from '../services/lib/metrics';
import { refreshSegmentPage } from '../services/segments/refresh';
import { nextSendingMoment, type SendingMomentRequest } from '../services/enrolment/sending-window';
import type { ActivityDeps } from './index';

export function createEnrolmentActivities(deps: ActivityDeps) {
  return {
    /** When a wait-until step ends, in the contact's time zone (or the step's fallback zone). */
    async computeWaitUntil(input: { contactId: string; from: string; until: WaitUntil & { timezone: string } }): Promise<{ at: string; timezone: string }> {
      const contact = await findContact(deps.db, input.contactId);
      const timezone = contact?.timezone ?? input.until.timezone;
      return { at: nextAllowedInstant(new Date(input.from), input.until, timezone).toISOString(), timezone };
    },

    /** When the next marketing send may go (the sending window, in the contact's time zone). */
    async nextSendingMoment(input: SendingMomentRequest) {
      return nextSendingMoment(deps.db, input, deps.sendingWindow, deps.email.frequencyCap);
    },

    /** Reads the contact, decides a branch and records the decision (once: a retry gets the recorded one). */
    async decideBranch(input: BranchDecisionRequest): Promise<{ index: number }> {
      const decision = await decideBranch(deps.db, input);
      metrics.stepsExecuted.inc({ type: 'branch', outcome: decision.index >= 0 ? `case ${decision.index + 1}` : 'default' });
      return decision;
    },

    /** One page of a segment membership scan: a cursor in, counts and the next cursor out (no contact data). */
    async refreshSegmentPage(input: { segmentKey?: string; after?: string; pageSize?: number }) {
      return refreshSegmentPage(deps, input);
    },

    /** One page of a scheduled run's segment enrolment. */
    async enrolSegmentPage(input: { journeyKey: string; runAt: string; after?: string }) {
      return enrolSegmentPage(deps, input.journeyKey, input.runAt, input.after);
    },
  };
}

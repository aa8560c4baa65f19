import { findContact } from '../services/contacts/contacts';
import { ingestEvent } from '../services/contacts/events';
import { nextAllowedInstant, type WaitUntil } from '../services/enrolment/quiet-hours';
import { enrolSegmentPage } from '../services/contacts/segments';
import { decideAsTestRun } from '../services/journeys/test-run-decisions';
import type { ActivityDeps } from './index';

export function createEnrolmentActivities(deps: ActivityDeps) {
  return {
    /** When a wait-until step ends, in the contact's time zone (or the step's fallback zone). */
    async computeWaitUntil(input: { contactId: string; from: string; until: WaitUntil & { timezone: string } }): Promise<{ at: string; timezone: string }> {
      const contact = await findContact(deps.db, input.contactId);
      const timezone = contact?.timezone ?? input.until.timezone;
      return { at: nextAllowedInstant(new Date(input.from), input.until, timezone).toISOString(), timezone };
    },

    /** A test run's scripted event, through the normal event path (its contact is a sandbox contact). */
    async sendTestEvent(input: { id: string; contactId: string; name: string; properties: Record<string, unknown> }) {
      await ingestEvent(deps, { id: input.id, contactId: input.contactId, name: input.name, properties: input.properties });
    },

    /** A test run's scripted decision, sent through the decideTask update as the run's sandbox approver. */
    async decideAsTestRun(input: Parameters<typeof decideAsTestRun>[1]) {
      return decideAsTestRun(deps, input);
    },

    /** One page of a scheduled run's segment enrolment. */
    async enrolSegmentPage(input: { journeyKey: string; runAt: string; after?: string }) {
      return enrolSegmentPage(deps, input.journeyKey, input.runAt, input.after);
    },
  };
}

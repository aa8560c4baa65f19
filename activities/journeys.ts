import { ingestEvent } from '../services/contacts/events';
import { decideAsTestRun } from '../services/journeys/test-run-decisions';
import type { ActivityDeps } from './index';

/** What a test run's script does to its sandbox enrolments, through the same paths as real traffic. */
export function createTestRunActivities(deps: ActivityDeps) {
  return {
    /** A test run's scripted event, through the normal event path (its contact is a sandbox contact). */
    async sendTestEvent(input: { id: string; contactId: string; name: string; properties: Record<string, unknown> }) {
      await ingestEvent(deps, { id: input.id, contactId: input.contactId, name: input.name, properties: input.properties });
    },

    /** A test run's scripted decision, sent through the decideTask update as the run's sandbox approver. */
    async decideAsTestRun(input: Parameters<typeof decideAsTestRun>[1]) {
      return decideAsTestRun(deps, input);
    },
  };
}

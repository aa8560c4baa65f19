import { applyContactChanges, type ContactChanges } from '../services/contacts/changes';
import { PermanentError } from '../services/lib/errors';
import { firstHoldingCondition, type EventConditionsRequest } from '../services/contacts/event-conditions';
import { loadFacts } from '../services/contacts/facts';
import { assignOwner } from '../services/contacts/owners';
import { enrolNewlyMatching } from '../services/contacts/segments';
import type { Facts } from '../journey-language';
import type { ActivityDeps } from './index';

export interface UpdateContactInput {
  idempotencyKey: string;
  contactId: string;
  changes: ContactChanges;
}

export function createContactActivities(deps: ActivityDeps) {
  return {
    /** Applies an update_contact step to the CRM record exactly once; may enter segment journeys. */
    async updateContact(input: UpdateContactInput): Promise<{ applied: boolean; found: boolean }> {
      const result = await applyContactChanges(deps.db, input.idempotencyKey, input.contactId, input.changes);
      if (!result.found) throw new PermanentError('contact_not_found', `contact ${input.contactId} does not exist (deleted or erased)`);
      if (result.before && result.after) await enrolNewlyMatching(deps, result.before, result.after);
      return { applied: result.applied, found: result.found };
    },

    /** The contact and (unless the branch does not look at it) its engagement with this enrolment's emails. */
    async loadFacts(input: { contactId: string; enrolmentId: string; engagement?: boolean }): Promise<Facts> {
      return loadFacts(deps.db, input.contactId, input.enrolmentId, input.engagement ?? true);
    },

    /** Which of an event's conditions holds first (-1: none), read where the event and the contact live. */
    async matchEventConditions(input: EventConditionsRequest): Promise<{ index: number }> {
      return firstHoldingCondition(deps.db, input);
    },

    /** Round-robin owner assignment, exactly once per step visit. */
    async assignOwner(input: { idempotencyKey: string; contactId: string; poolKey: string; pool: string[]; onlyIfUnassigned: boolean }) {
      return assignOwner(deps.db, input);
    },
  };
}

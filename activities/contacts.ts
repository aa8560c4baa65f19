import { applyContactChanges, type ContactChanges } from '../services/contacts/changes';
import { PermanentError } from '../services/lib/errors';
import { firstHoldingCondition, type EventConditionsRequest } from '../services/contacts/event-conditions';
import { loadFacts } from '../services/contacts/facts';
import { assignOwner } from '../services/contacts/owners';
import { contactChanged } from '../services/segments/contact-changed';
import type { Facts } from '../journey-language';
import type { ActivityDeps } from './index';

export interface UpdateContactInput {
  idempotencyKey: string;
  contactId: string;
  changes: ContactChanges;
}

export function createContactActivities(deps: ActivityDeps) {
  return {
    /**
     * Applies an update_contact step to the CRM record exactly once, then runs the contact-changed
     * hook (segments, state goals), also on a retry that finds the change applied: what a failed
     * attempt left undone after the write is done then, and nothing twice.
     */
    async updateContact(input: UpdateContactInput): Promise<{ applied: boolean; found: boolean }> {
      const result = await applyContactChanges(deps.db, input.idempotencyKey, input.contactId, input.changes);
      if (!result.found) throw new PermanentError('contact_not_found', `contact ${input.contactId} does not exist (deleted or erased)`);
      await contactChanged(deps, { contactId: input.contactId, before: result.before, after: result.after });
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

    /** Round-robin owner assignment, exactly once per step visit; then the contact-changed hook (segments, state goals). */
    async assignOwner(input: { idempotencyKey: string; contactId: string; poolKey: string; pool: string[]; onlyIfUnassigned: boolean }) {
      const result = await assignOwner(deps.db, input);
      if (result.reason !== 'contact_missing' && result.reason !== 'sandboxed') await contactChanged(deps, { contactId: input.contactId });
      return result;
    },
  };
}

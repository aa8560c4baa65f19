import { applyContactChanges, type ContactChanges } from '../services/contact-changes';
import type { ActivityDeps } from './index';

export interface UpdateContactInput {
  idempotencyKey: string;
  contactId: string;
  changes: ContactChanges;
}

export function createContactActivities(deps: ActivityDeps) {
  return {
    /** Applies an update_contact step to the CRM record exactly once. */
    async updateContact(input: UpdateContactInput): Promise<{ applied: boolean; found: boolean }> {
      return applyContactChanges(deps.db, input.idempotencyKey, input.contactId, input.changes);
    },
  };
}

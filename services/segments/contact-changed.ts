import type { ContactRow } from '../../db/schema';
import { enrolNewlyMatching } from '../contacts/segments';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { decideMemberships } from './membership';
import { sendSegmentChanges } from './segment-events';
import { publishedSegments } from './segments';
import { sendStateChanges } from './state-changes';

/** A contact written by one of the write paths; `before`/`after` where the path has them. */
export interface ContactChange {
  contactId: string;
  /** The contact before the write: with `after`, for the inline-condition segment trigger. */
  before?: ContactRow;
  after?: ContactRow;
  /** The write created the contact (no `before`). */
  created?: boolean;
}

/** Contacts decided in one transaction at most: a bulk enrolment's are taken 500 at a time. */
const BATCH = 500;

/**
 * The one hook every contact write path calls after its write (the contact API's create, update
 * and upsert, events, inline enrolments, owner assignment, update_contact steps, consent
 * changes): it decides the contacts' segment memberships and sends what changed
 * (`segment.entered` / `segment.left`, segment-triggered enrolments), tells running enrolments
 * with state goals or exits that their contact changed, and keeps the inline-condition segment
 * trigger (which needs the contact before and after). Idempotent: a retried write records,
 * enrols and sends nothing twice, and finishes what a failed attempt left. Returns the
 * enrolments it started.
 */
export async function contactsChanged(deps: EnrolDeps, changes: ContactChange[]): Promise<string[]> {
  const enrolled: string[] = [];
  for (const change of changes) {
    if (change.after && (change.before || change.created)) enrolled.push(...await enrolNewlyMatching(deps, change.before, change.after));
  }
  const ids = [...new Set(changes.map((c) => c.contactId))];
  const segments = await publishedSegments(deps.db);
  for (let i = 0; i < ids.length; i += BATCH) {
    const batch = ids.slice(i, i + BATCH);
    await decideMemberships(deps.db, batch, segments);
    enrolled.push(...await sendSegmentChanges(deps, batch));
    await sendStateChanges(deps, batch);
  }
  return enrolled;
}

/** One contact's change: see contactsChanged. */
export async function contactChanged(deps: EnrolDeps, change: ContactChange): Promise<string[]> {
  return contactsChanged(deps, [change]);
}

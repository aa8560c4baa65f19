import type { ContactRow } from '../../db/schema';
import { applyContactChanges, type ContactChanges } from '../contacts/changes';
import { enrolMany } from '../enrolment/enrol';
import { enrolmentTarget } from '../enrolment/rows';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { PermanentError } from '../lib/errors';
import { contactsChanged, type ContactChange } from '../segments/contact-changed';
import { segmentMembers } from '../segments/members';

/**
 * The automations that act on a segment's members: enrol them in a journey, or update their CRM
 * records, through the services enrolment and update_contact steps use, each contact's effect
 * idempotent by `<automation key>:<contact id>` (a retried activity enrols and changes nobody
 * twice). A segment of more than MAX_SEGMENT_CONTACTS members is refused before anything is done:
 * an automation is one activity, and its work is bounded.
 */
export const MAX_SEGMENT_CONTACTS = 10_000;
const PAGE = 500;

/** Each page of the segment's members, by contact id. */
async function forEachPage(deps: EnrolDeps, segment: string, fn: (contacts: ContactRow[]) => Promise<void>): Promise<number> {
  let after: string | undefined;
  let total = 0;
  for (;;) {
    const page = await segmentMembers(deps.db, segment, { limit: PAGE, after });
    if (page.count > MAX_SEGMENT_CONTACTS) {
      throw new PermanentError('segment_too_large', `segment "${segment}" has ${page.count} members; an automation acts on ${MAX_SEGMENT_CONTACTS} at most`);
    }
    const contacts = page.contacts.slice(0, PAGE);
    if (contacts.length) await fn(contacts);
    total += contacts.length;
    if (page.contacts.length <= PAGE) return total;
    after = contacts[contacts.length - 1]!.id;
  }
}

/** Enrols every member of the segment in the journey's latest version (entry rules apply; a paused or unpublished journey is a permanent failure). */
export async function enrolSegment(deps: EnrolDeps, key: string, actor: string, segment: string, journeyKey: string): Promise<Record<string, unknown>> {
  const target = await enrolmentTarget(deps.db, journeyKey);
  const counts = { created: 0, existing: 0, failed: 0 };
  const members = await forEachPage(deps, segment, async (contacts) => {
    const outcomes = await enrolMany(deps, target, contacts.map((c) => ({ contactId: c.id, idempotencyKey: `${key}:${c.id}` })), actor);
    for (const o of outcomes) counts[o.status === 'error' ? 'failed' : o.status] += 1;
  });
  return { segment, journey: journeyKey, members, ...counts };
}

/** Applies the changes to every member of the segment, once each, then the contact-changed hook (segments, state goals). */
export async function updateSegmentContacts(deps: EnrolDeps, key: string, segment: string, changes: ContactChanges): Promise<Record<string, unknown>> {
  let applied = 0;
  const members = await forEachPage(deps, segment, async (contacts) => {
    const changed: ContactChange[] = [];
    for (const contact of contacts) {
      const result = await applyContactChanges(deps.db, `${key}:${contact.id}`, contact.id, changes);
      if (result.applied) applied += 1;
      if (result.found) changed.push({ contactId: contact.id, before: result.before, after: result.after });
    }
    await contactsChanged(deps, changed);
  });
  return { segment, members, applied, changes: { fields: Object.keys(changes.set ?? {}), addTags: changes.addTags ?? [], removeTags: changes.removeTags ?? [], scoreDelta: changes.scoreDelta ?? 0 } };
}

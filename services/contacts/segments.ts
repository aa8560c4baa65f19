import { and, asc, eq, gt, isNull } from 'drizzle-orm';
import { activeSegmentJourneys } from '../../db/queries/journeys';
import { contacts, type ContactRow } from '../../db/schema';
import { evaluate } from '../../journey-language';
import { triggerEnrolment, triggeredEnrolments } from '../enrolment/enrol';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { contactFacts } from './facts';
import { getJourney, getVersion } from '../journeys/journeys';

/**
 * Enrols a contact in every active journey triggered by an inline segment condition that it matches now but
 * did not match before the change (`before` undefined: a new contact). Entry rules apply; the
 * idempotency key ties the enrolment to this change, so a retried change enrols nobody twice.
 */
export async function enrolNewlyMatching(deps: EnrolDeps, before: ContactRow | undefined, after: ContactRow): Promise<string[]> {
  if (after.test || after.erasedAt) return [];
  const candidates = await activeSegmentJourneys(deps.db);
  const enrolled: string[] = [];
  for (const journey of candidates) {
    const version = await getVersion(deps.db, journey.id, journey.latestVersion!);
    // A saved segment's trigger enrols on `segment.entered` (services/segments/segment-events.ts).
    if (version.definition.trigger.type !== 'segment' || !version.definition.trigger.condition) continue;
    const condition = version.definition.trigger.condition;
    const matchedBefore = before !== undefined && evaluate(condition, { contact: contactFacts(before) });
    if (matchedBefore || !evaluate(condition, { contact: contactFacts(after) })) continue;
    const enrolment = await triggerEnrolment(deps, { journey, version },
      { contactId: after.id, idempotencyKey: `segment:${after.id}:${after.updatedAt.toISOString()}` }, 'segment');
    if (enrolment) enrolled.push(enrolment.id);
  }
  return enrolled;
}

const PAGE = 500;

/**
 * One page of a scheduled run: the contacts (by id, after `after`) that the schedule trigger's
 * condition matches are enrolled, idempotently per run time and contact.
 */
export async function enrolSegmentPage(
  deps: EnrolDeps, journeyKey: string, runAt: string, after?: string,
): Promise<{ enrolled: number; matched: number; nextCursor?: string }> {
  const journey = await getJourney(deps.db, journeyKey);
  if (journey.status !== 'active' || journey.latestVersion === null) return { enrolled: 0, matched: 0 };
  const version = await getVersion(deps.db, journey.id, journey.latestVersion);
  const { trigger } = version.definition;
  if (trigger.type !== 'schedule') return { enrolled: 0, matched: 0 };
  const page = await deps.db.select().from(contacts)
    .where(and(eq(contacts.test, false), isNull(contacts.erasedAt), after ? gt(contacts.id, after) : undefined)).orderBy(asc(contacts.id)).limit(PAGE);
  const matching = page.filter((contact) => !trigger.condition || evaluate(trigger.condition, { contact: contactFacts(contact) }));
  // The whole page in a few statements; each contact once per run time.
  const outcomes = await triggeredEnrolments(deps, { journey, version },
    matching.map((contact) => ({ contactId: contact.id, idempotencyKey: `schedule:${runAt}:${contact.id}` })), 'schedule');
  const enrolled = outcomes.filter((o) => o.status === 'created').length;
  return { enrolled, matched: matching.length, nextCursor: page.length === PAGE ? page[page.length - 1]!.id : undefined };
}

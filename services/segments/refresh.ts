import { contactPage } from '../../db/queries/segments';
import type { EnrolDeps } from '../enrolment/workflow-runs';
import { DomainError } from '../lib/errors';
import { decideMemberships } from './membership';
import { sendSegmentChanges } from './segment-events';
import { publishedSegment, publishedSegments, type PublishedSegment } from './segments';

export const DEFAULT_PAGE_SIZE = 200;
const MAX_PAGE_SIZE = 500;

/**
 * One page of a membership scan (the segmentRefreshWorkflow's activity): the contacts after
 * `after` by id, decided for one segment (`segmentKey`) or for every time-relative one, their
 * changes recorded and sent. Idempotent: a retried page finds its changes recorded, and sends
 * those not yet sent. Answers with counts and the next cursor (a contact id), never contact data.
 */
export async function refreshSegmentPage(
  deps: EnrolDeps, input: { segmentKey?: string; after?: string; pageSize?: number },
): Promise<{ scanned: number; entered: number; left: number; nextCursor?: string }> {
  const segments = await segmentsToRefresh(deps, input.segmentKey);
  if (!segments.length) return { scanned: 0, entered: 0, left: 0 };
  const size = Math.min(Math.max(1, input.pageSize ?? DEFAULT_PAGE_SIZE), MAX_PAGE_SIZE);
  const page = await contactPage(deps.db, input.after, size);
  const ids = page.map((c) => c.id);
  const changes = await decideMemberships(deps.db, ids, segments);
  await sendSegmentChanges(deps, ids);
  return {
    scanned: page.length,
    entered: changes.filter((c) => c.kind === 'entered').length,
    left: changes.filter((c) => c.kind === 'left').length,
    nextCursor: page.length === size ? ids[ids.length - 1] : undefined,
  };
}

async function segmentsToRefresh(deps: EnrolDeps, key: string | undefined): Promise<PublishedSegment[]> {
  if (key === undefined) return (await publishedSegments(deps.db)).filter((s) => s.timeRelative);
  try {
    return [await publishedSegment(deps.db, key)];
  } catch (err) {
    // Not (or no longer) there to refresh: the scan ends.
    if (err instanceof DomainError && err.status < 500) return [];
    throw err;
  }
}

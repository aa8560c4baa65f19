import { and, eq } from 'drizzle-orm';
import type { Database } from '../client';
import { journeys, type JourneyRow } from '../schema';
import { preparedQuery } from '../statements';

const segmentJourneys = preparedQuery('nurture_segment_journeys', (db) => db.select().from(journeys)
  .where(and(eq(journeys.triggerType, 'segment'), eq(journeys.status, 'active'))));

/** The active journeys a contact enters by matching a segment condition. */
export async function activeSegmentJourneys(db: Database): Promise<JourneyRow[]> {
  return segmentJourneys(db).execute();
}

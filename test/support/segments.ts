import { and, eq } from 'drizzle-orm';
import { enrolments } from '../../db/schema';
import { uniqueKey, type Harness } from './harness';

/** Creates and publishes a segment, and waits for the scan of its first version; its key. */
export async function publishSegment(h: Harness, condition: unknown): Promise<string> {
  const key = uniqueKey('seg');
  const created = await h.api('POST', '/v1/segments', { key, name: key, condition });
  if (created.status !== 201) throw new Error(JSON.stringify(created.body));
  const published = await h.api('POST', `/v1/segments/${key}/publish`);
  if (published.status !== 201) throw new Error(JSON.stringify(published.body));
  await h.result(published.body.scan);
  return key;
}

/** A contact's enrolments in one journey. */
export const enrolmentsOf = (h: Harness, journeyKey: string, contactId: string) => h.database.db.select().from(enrolments)
  .where(and(eq(enrolments.journeyKey, journeyKey), eq(enrolments.contactId, contactId)));

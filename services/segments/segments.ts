import { and, desc, eq, isNotNull, sql } from 'drizzle-orm';
import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../db/client';
import { segments, segmentVersions, type SegmentRow } from '../../db/schema';
import { segmentNeeds, type SegmentCondition } from '../../journey-language';
import { conflict, notFound } from '../lib/errors';

/** A published segment as membership is decided on: its latest version's condition. */
export interface PublishedSegment {
  id: string;
  key: string;
  version: number;
  condition: SegmentCondition;
  timeRelative: boolean;
}

export async function getSegment(db: Database, key: string): Promise<SegmentRow> {
  const [row] = await db.select().from(segments).where(eq(segments.key, key));
  if (!row) throw notFound('segment', 'key', key);
  return row;
}

/** Segments by key after `after`: limit + 1 rows, so the caller knows whether another page follows. */
export async function listSegments(db: Database, page: { limit: number; after?: string }): Promise<SegmentRow[]> {
  return db.select().from(segments).where(page.after === undefined ? undefined : sql`${segments.key} > ${page.after}`)
    .orderBy(segments.key).limit(page.limit + 1);
}

export async function listSegmentVersions(db: Database, segmentId: string) {
  const rows = await db.select({ version: segmentVersions.version, publishedAt: segmentVersions.publishedAt })
    .from(segmentVersions).where(eq(segmentVersions.segmentId, segmentId)).orderBy(desc(segmentVersions.version)).limit(100);
  return rows.reverse();
}

export interface SegmentDraft {
  name?: string;
  description?: string;
  condition: SegmentCondition;
}

export async function createSegment(db: Database, input: SegmentDraft & { key: string; name: string }): Promise<SegmentRow> {
  const [row] = await db.insert(segments).values({
    key: input.key, name: input.name, description: input.description, draft: input.condition,
  }).onConflictDoNothing({ target: segments.key }).returning();
  if (!row) throw conflict('segment_exists', `A segment with key "${input.key}" exists already`, { field: 'key' });
  return row;
}

export async function updateSegmentDraft(db: Database, key: string, input: SegmentDraft): Promise<SegmentRow> {
  const [row] = await db.update(segments).set({
    draft: input.condition, name: input.name, description: input.description, updatedAt: sql`now()`,
  }).where(eq(segments.key, key)).returning();
  if (!row) throw notFound('segment', 'key', key);
  forgetPublished(db);
  return row;
}

/**
 * Publishes the draft as the next immutable version (an unchanged draft answers the latest
 * version). Membership follows the new version from the next evaluation on; the caller starts
 * a full re-evaluation (services/segments/refresh.ts).
 */
export async function publishSegment(db: Database, key: string): Promise<{ segment: SegmentRow; version: number; created: boolean; timeRelative: boolean }> {
  const published = await db.transaction(async (tx) => {
    const [segment] = await tx.select().from(segments).where(eq(segments.key, key)).for('update');
    if (!segment) throw notFound('segment', 'key', key);
    const condition = segment.draft as SegmentCondition;
    const timeRelative = segmentNeeds([condition]).timeRelative;
    if (segment.latestVersion !== null) {
      const [latest] = await tx.select().from(segmentVersions)
        .where(and(eq(segmentVersions.segmentId, segment.id), eq(segmentVersions.version, segment.latestVersion)));
      if (latest && isDeepStrictEqual(latest.condition, condition)) return { segment, version: latest.version, created: false, timeRelative };
    }
    const version = (segment.latestVersion ?? 0) + 1;
    await tx.insert(segmentVersions).values({ segmentId: segment.id, version, condition, timeRelative });
    const [updated] = await tx.update(segments).set({ latestVersion: version, updatedAt: sql`now()` }).where(eq(segments.id, segment.id)).returning();
    return { segment: updated!, version, created: true, timeRelative };
  });
  forgetPublished(db);
  return published;
}

/** How long the published segments, read for a contact's change, are used again without reading them. */
const RECENT_MS = 2_000;
const recent = new WeakMap<Database, { rows: PublishedSegment[]; until: number }>();

function forgetPublished(db: Database): void {
  recent.delete(db);
}

/**
 * Every published segment at its latest version: read once per two seconds at most, as each
 * contact write needs them (a publish in this process drops them at once; one elsewhere is seen
 * within two seconds, and the re-evaluation it starts covers every contact anyway).
 */
export async function publishedSegments(db: Database): Promise<PublishedSegment[]> {
  const cached = recent.get(db);
  if (cached && cached.until > Date.now()) return cached.rows;
  const rows = await db.select({
    id: segments.id, key: segments.key, version: segmentVersions.version, condition: segmentVersions.condition, timeRelative: segmentVersions.timeRelative,
  }).from(segments).innerJoin(segmentVersions, and(eq(segmentVersions.segmentId, segments.id), eq(segmentVersions.version, segments.latestVersion)))
    .where(isNotNull(segments.latestVersion));
  const published = rows.map((r) => ({ ...r, condition: r.condition as SegmentCondition }));
  recent.set(db, { rows: published, until: Date.now() + RECENT_MS });
  return published;
}

/** One published segment by key, or a 404 / 409 naming it. */
export async function publishedSegment(db: Database, key: string): Promise<PublishedSegment> {
  const segment = await getSegment(db, key);
  let found = (await publishedSegments(db)).find((s) => s.key === key);
  if (found?.version !== segment.latestVersion) {
    // Published since the cached read (perhaps by another process): read them now.
    forgetPublished(db);
    found = (await publishedSegments(db)).find((s) => s.key === key);
  }
  if (!found) throw conflict('segment_not_published', `Segment "${key}" has no published version`, { field: 'key' });
  return found;
}

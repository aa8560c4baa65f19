import { and, desc, eq, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processRuns, type ProcessRunRow, type ProcessRunStatus } from '../../db/schema';
import { getProcess } from './definitions';

export interface RunListQuery {
  status?: ProcessRunStatus;
  limit: number;
  /** The previous page's cursor: its last run's id. */
  after?: string;
}

/**
 * A process's runs, newest first (by start, then id), `limit + 1` rows past the cursor so the
 * caller sees whether another page follows: how an operator finds the runs still going, or the
 * ones a Schedule or an event started. 404 for an unknown process. The cursor is the last run's
 * id, its start read back from its row (to the microsecond), so no run is skipped or repeated.
 */
export async function listRuns(db: Database, key: string, query: RunListQuery): Promise<ProcessRunRow[]> {
  await getProcess(db, key);
  return db.select().from(processRuns).where(and(
    eq(processRuns.processKey, key),
    query.status ? eq(processRuns.status, query.status) : undefined,
    query.after ? sql`(${processRuns.startedAt}, ${processRuns.id}) < (select r.started_at, r.id from process_runs r where r.id = ${query.after})` : undefined,
  )).orderBy(desc(processRuns.startedAt), desc(processRuns.id)).limit(query.limit + 1);
}

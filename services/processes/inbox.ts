import { and, eq, inArray, sql, type SQL } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { processRuns, processTasks, tasks, type ProcessRunRow, type ProcessTaskRow, type TaskRow } from '../../db/schema';
import { tasksOf, type FormField, type ProcessDefinition } from '../../journey-language';
import type { Caller } from '../people/api-keys';
import { inboxVisibility } from '../tasks/tasks';
import { runDefinition } from './runs';

/** A process task as the inbox and the form page show it: its row, its run, its place and form in the run's definition. */
export interface InboxProcessTask {
  row: ProcessTaskRow;
  run: ProcessRunRow;
  section: string;
  fields: FormField[];
}

export type InboxItem = { source: 'journey'; task: TaskRow } | { source: 'process'; task: InboxProcessTask };

/**
 * Whether a user may act on a process task: one of its assignees (user or role), or anyone when it
 * names none. A sequential approval's stage names its people only (whoever decided an earlier
 * stage was left out of its roles).
 */
export function mayActOn(row: ProcessTaskRow, user: { id: string; roles: string[] }): boolean {
  return row.assignees.length === 0
    || row.assignees.some((s) => s.userIds.includes(user.id) || (s.role !== undefined && s.stage === undefined && user.roles.includes(s.role)));
}

function processVisibility(caller: Caller): SQL | undefined {
  if (!caller.user) return undefined;
  const roles = caller.user.roles;
  return sql`exists (
    select 1 from jsonb_array_elements(${processTasks.assignees}) a
    where a->'userIds' ? ${caller.user.id}${roles.length ? sql` or (a->>'role' in (${sql.join(roles.map((r) => sql`${r}`), sql`, `)}) and not a ? 'stage')` : sql``})`;
}

/** Process tasks with their runs and definitions (each version's definition read once). */
export async function processTasksByIds(db: Database, ids: string[]): Promise<InboxProcessTask[]> {
  if (!ids.length) return [];
  const rows = await db.select().from(processTasks).innerJoin(processRuns, eq(processRuns.id, processTasks.runId)).where(inArray(processTasks.id, ids));
  const definitions = new Map<string, Promise<ProcessDefinition>>();
  return Promise.all(rows.map(async ({ process_tasks: row, process_runs: run }) => {
    const cacheKey = `${run.processId}:${run.version}`;
    if (!definitions.has(cacheKey)) definitions.set(cacheKey, runDefinition(db, run));
    const placed = tasksOf(await definitions.get(cacheKey)!).find((p) => p.task.id === row.taskId);
    const fields = placed && placed.task.kind !== 'checklist' ? placed.task.fields : [];
    return { row, run, section: placed?.sectionTitle ?? '', fields };
  }));
}

const JOURNEY_KEY = sql.raw(`case when tasks.status = 'open' then 0 else 1 end, coalesce(tasks.due_at, 'infinity'), tasks.created_at, tasks.id`);
const PROCESS_KEY = sql.raw(`case when process_tasks.status = 'open' then 0 else 1 end, coalesce(process_tasks.due_at, 'infinity'), coalesce(process_tasks.opened_at, process_tasks.finished_at, 'epoch'), process_tasks.id`);

/**
 * The approver inbox: journey approvals and process tasks in one order (open first, then by due
 * time, none last, then when they opened), limit + 1 of them after the task `after` (either kind:
 * keyset on that order, read from its row) or from `offset`. A process task is in the inbox of
 * each person it names (as a user, or by a role they hold when it opened or now); one that names
 * nobody (anyone may act) is in the admin's inbox and on the run's checklist page, not in every
 * approver's. Skipped tasks are in no inbox.
 */
export async function listInbox(db: Database, caller: Caller, page: { limit: number; offset: number; after?: string; status?: string; source?: 'journey' | 'process' }): Promise<InboxItem[]> {
  const cursor = page.after === undefined ? sql`` : sql` and (rank, due, opened, id) > (
    select ${JOURNEY_KEY} from tasks where tasks.id = ${page.after}
    union all select ${PROCESS_KEY} from process_tasks where process_tasks.id = ${page.after} limit 1)`;
  const journeyWhere = and(page.status ? sql`${tasks.status} = ${page.status}` : undefined, inboxVisibility(caller)) ?? sql`true`;
  const processWhere = and(sql`${processTasks.status} <> 'skipped'`, page.status ? sql`${processTasks.status} = ${page.status}` : undefined, processVisibility(caller))!;
  const arms = [
    page.source !== 'process' ? sql`select 'journey' as source, ${JOURNEY_KEY} from tasks where ${journeyWhere}` : undefined,
    page.source !== 'journey' ? sql`select 'process' as source, ${PROCESS_KEY} from process_tasks where ${processWhere}` : undefined,
  ].filter((a): a is SQL => a !== undefined);
  const { rows } = await db.execute(sql`
    select source, id from (${sql.join(arms, sql` union all `)}) as inbox (source, rank, due, opened, id)
    where true${cursor}
    order by rank, due, opened, id
    limit ${page.limit + 1} offset ${page.after === undefined ? page.offset : 0}`) as unknown as { rows: Array<{ source: 'journey' | 'process'; id: string }> };
  const journeyIds = rows.filter((r) => r.source === 'journey').map((r) => r.id);
  const journey = new Map((journeyIds.length ? await db.select().from(tasks).where(inArray(tasks.id, journeyIds)) : []).map((t) => [t.id, t]));
  const process = new Map((await processTasksByIds(db, rows.filter((r) => r.source === 'process').map((r) => r.id))).map((t) => [t.row.id, t]));
  return rows.flatMap((r): InboxItem[] => {
    if (r.source === 'journey') return journey.has(r.id) ? [{ source: 'journey', task: journey.get(r.id)! }] : [];
    return process.has(r.id) ? [{ source: 'process', task: process.get(r.id)! }] : [];
  });
}

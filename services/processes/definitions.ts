import { and, desc, eq, ne, sql } from 'drizzle-orm';
import { isDeepStrictEqual } from 'node:util';
import type { Database } from '../../db/client';
import { processes, processVersions, type ProcessRow } from '../../db/schema';
import { MAX_PROCESSES_PER_EVENT, processTaskAt, ProcessDefinitionSchema, type ProcessDefinition, type ProcessAssignee, tasksOf } from '../../journey-language';
import { conflict, invalid, notFound, type FieldProblem } from '../lib/errors';
import { formatPath } from '../lib/validation';
import { missingPrincipal, getUser } from '../people/users';
import type { z } from 'zod';
import { checkAutomations } from './automation-checks';

/**
 * Process definitions, drafted and published like journeys: a process has a draft anyone with
 * an admin key edits, and publishing makes the next immutable version that new runs start on.
 */
export interface ProcessVersion {
  version: number;
  definition: ProcessDefinition;
  publishedAt: Date;
}

/** zod issues as problems that name the task (`task "brief": ...`) and the field's path. */
function problemsOf(error: z.ZodError, draft: unknown): FieldProblem[] {
  return error.issues.map((issue) => {
    const taskId = processTaskAt(draft, issue.path);
    const message = taskId && !issue.message.startsWith('task "') ? `task "${taskId}": ${issue.message}` : issue.message;
    return { path: formatPath(issue.path, 'definition'), message, ...(taskId ? { stepId: taskId } : {}) };
  });
}

/** Problems with a draft, each naming its path and task; empty when it can be published (assignees aside). */
export function processDraftProblems(draft: unknown): FieldProblem[] {
  const parsed = ProcessDefinitionSchema.safeParse(draft);
  return parsed.success ? [] : problemsOf(parsed.error, draft);
}

export async function getProcess(db: Database, key: string): Promise<ProcessRow> {
  const [row] = await db.select().from(processes).where(eq(processes.key, key));
  if (!row) throw notFound('process', 'key', key);
  return row;
}

export async function createProcess(db: Database, input: { key: string; name: string; description?: string; definition: unknown }): Promise<ProcessRow> {
  const [row] = await db.insert(processes)
    .values({ key: input.key, name: input.name, description: input.description, draft: input.definition })
    .onConflictDoNothing({ target: processes.key }).returning();
  if (!row) throw conflict('process_exists', `A process with key "${input.key}" exists already`, { field: 'key' });
  return row;
}

export async function updateProcessDraft(db: Database, key: string, input: { name?: string; description?: string; definition: unknown }): Promise<ProcessRow> {
  const [row] = await db.update(processes)
    .set({ draft: input.definition, name: input.name, description: input.description, updatedAt: sql`now()` })
    .where(eq(processes.key, key)).returning();
  if (!row) throw notFound('process', 'key', key);
  return row;
}

/** Why an assignee names nobody (no such user, nobody in the role, a rotation of nobody); undefined when someone can act. */
async function missingAssignee(db: Database, who: ProcessAssignee): Promise<string | undefined> {
  if ('userId' in who) return getUser(db, who.userId).then(() => undefined, () => `no user has the id "${who.userId}"`);
  if (!('roundRobin' in who)) return missingPrincipal(db, who);
  const rotation = who.roundRobin;
  if ('role' in rotation) return missingPrincipal(db, rotation);
  for (const user of rotation.users) {
    const missing = await missingPrincipal(db, { user });
    if (missing) return missing;
  }
  return undefined;
}

/** Assignees and approvers (of every stage) nobody is: such a task could never be done. */
async function assigneeProblems(db: Database, definition: ProcessDefinition): Promise<FieldProblem[]> {
  const problems: FieldProblem[] = [];
  for (const { task, section, index } of tasksOf(definition)) {
    const who: Array<{ path: string; principal: ProcessAssignee }> = task.kind !== 'approval'
      ? (task.assignee ? [{ path: 'assignee', principal: task.assignee }] : [])
      : task.mode === 'sequential'
        ? (task.stages ?? []).flatMap((stage, s) => stage.approvers.map((principal, k) => ({ path: `stages[${s}].approvers[${k}]`, principal })))
        : (task.approvers ?? []).map((principal, k) => ({ path: `approvers[${k}]`, principal }));
    if (task.escalate) who.push({ path: 'escalate.to', principal: task.escalate.to });
    for (const { path, principal } of who) {
      const missing = await missingAssignee(db, principal);
      if (missing) problems.push({ path: `definition.sections[${section}].tasks[${index}].${path}`, stepId: task.id, message: `task "${task.id}": ${path}: ${missing}` });
    }
  }
  return problems;
}

/** One event name starts at most MAX_PROCESSES_PER_EVENT processes: a further one is refused at publish. */
async function startEventProblems(db: Database, process: ProcessRow, definition: ProcessDefinition): Promise<FieldProblem[]> {
  const event = definition.startOn?.event;
  if (!event || process.startEvent === event) return [];
  const [row] = await db.select({ count: sql<number>`count(*)::int` }).from(processes)
    .where(and(eq(processes.startEvent, event), ne(processes.id, process.id)));
  const count = row?.count ?? 0;
  if (count < MAX_PROCESSES_PER_EVENT) return [];
  const message = `${count} processes start on "${event}" already, the most one event starts`;
  return [{ path: 'definition.startOn.event', message }];
}

/**
 * Publishes the draft as the next immutable version (an unchanged draft returns the latest
 * version). Refuses (422) a draft that does not validate, names an assignee nobody is, or has an
 * automation naming a journey, segment, template or recipient nobody is, or an internal webhook
 * host `webhookAllowedHosts` does not name.
 */
export async function publishProcess(db: Database, key: string, webhookAllowedHosts: readonly string[] = []): Promise<{ process: ProcessRow; version: number; created: boolean }> {
  return db.transaction(async (tx) => {
    const [process] = await tx.select().from(processes).where(eq(processes.key, key)).for('update');
    if (!process) throw notFound('process', 'key', key);
    const parsed = ProcessDefinitionSchema.safeParse(process.draft);
    const problems = parsed.success ? await assigneeProblems(tx as unknown as Database, parsed.data) : problemsOf(parsed.error, process.draft);
    if (parsed.success) problems.push(...await startEventProblems(tx as unknown as Database, process, parsed.data));
    const automations = parsed.success ? await checkAutomations(tx as unknown as Database, parsed.data, webhookAllowedHosts) : undefined;
    problems.push(...automations?.problems ?? []);
    if (!parsed.success || problems.length) throw invalid('invalid_definition', `The draft of "${key}" cannot be published`, problems);
    const definition = automations!.definition;
    if (process.latestVersion !== null) {
      const latest = await getProcessVersion(tx as unknown as Database, process.id, process.latestVersion);
      if (isDeepStrictEqual(latest.definition, definition)) return { process, version: latest.version, created: false };
    }
    const version = (process.latestVersion ?? 0) + 1;
    await tx.insert(processVersions).values({ processId: process.id, version, definition });
    const [updated] = await tx.update(processes).set({ latestVersion: version, startEvent: parsed.data.startOn?.event ?? null, updatedAt: sql`now()` }).where(eq(processes.id, process.id)).returning();
    return { process: updated!, version, created: true };
  });
}

export async function getProcessVersion(db: Database, processId: string, version: number): Promise<ProcessVersion> {
  const [row] = await db.select().from(processVersions)
    .where(and(eq(processVersions.processId, processId), eq(processVersions.version, version)));
  if (!row) throw notFound('process_version', 'version', String(version));
  return { version: row.version, definition: row.definition as ProcessDefinition, publishedAt: row.publishedAt };
}

/** The latest published versions, oldest first. */
export async function listProcessVersions(db: Database, processId: string, limit = 100): Promise<Array<{ version: number; publishedAt: Date }>> {
  const latest = await db.select({ version: processVersions.version, publishedAt: processVersions.publishedAt })
    .from(processVersions).where(eq(processVersions.processId, processId)).orderBy(desc(processVersions.version)).limit(limit);
  return latest.reverse();
}

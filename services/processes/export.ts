import { asc, eq, inArray } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditRecords, users, type ProcessRunRow } from '../../db/schema';
import { progressOf, tasksOf } from '../../journey-language';
import { processChain } from '../audit/records';
import { verifyChain, type VerifyReport } from '../audit/verify';
import { runDefinition, runTasks, runTaskStates } from './runs';

/**
 * A run's record as proof: its checklist (each task with its section, status, who finished it
 * and when, its answers and decisions), every audit record of the run's chain (who did what,
 * when), the people named (id → name, email) and the chain's verification, recomputed now.
 */
export async function exportRun(db: Database, run: ProcessRunRow) {
  const definition = await runDefinition(db, run);
  const rows = await runTasks(db, run.id);
  const byId = new Map(rows.map((r) => [r.taskId, r]));
  const states = runTaskStates(definition, rows, run.status !== 'running');
  const records = await db.select().from(auditRecords).where(eq(auditRecords.chain, processChain(run.id))).orderBy(asc(auditRecords.seq));
  const verification: VerifyReport = await verifyChain(db, processChain(run.id));
  const ids = [...new Set(rows.flatMap((r) => [r.completedBy, ...r.decisions.map((d) => d.userId)]).filter((id): id is string => !!id))];
  // Reminders, the escalation and due-time moves (with their reasons) are in the chain only (the task rows have no column for them).
  const remindersOf = (taskId: string) => records.filter((r) => r.stepId === taskId && r.action === 'process.task_reminded').length;
  const dueChangesOf = (taskId: string) => records.filter((r) => r.stepId === taskId && r.action === 'process.task_due_changed').map((r) => {
    const d = r.details as { from?: string | null; dueAt?: string | null; reason?: string };
    return { at: r.at.toISOString(), by: r.actor, from: d.from ?? null, dueAt: d.dueAt ?? null, reason: d.reason ?? '' };
  });
  const escalatedAt = (taskId: string) => records.find((r) => r.stepId === taskId && r.action === 'process.task_escalated')?.at.toISOString() ?? null;
  const people = ids.length ? await db.select({ id: users.id, name: users.name, email: users.email }).from(users).where(inArray(users.id, ids)) : [];
  return {
    run: {
      id: run.id, processKey: run.processKey, version: run.version, workflowId: run.workflowId, status: run.status,
      inputs: run.inputs, startedBy: run.startedBy, startedAt: run.startedAt.toISOString(), endedAt: run.endedAt?.toISOString() ?? null,
    },
    progress: progressOf(definition, states),
    checklist: tasksOf(definition).map(({ task, sectionTitle }) => {
      const row = byId.get(task.id);
      return {
        section: sectionTitle, taskId: task.id, title: task.title, kind: task.kind, stop: task.stop, status: states[task.id]!.status,
        completedBy: row?.completedBy ?? null, finishedAt: row?.finishedAt?.toISOString() ?? null, openedAt: row?.openedAt?.toISOString() ?? null,
        dueAt: row?.dueAt?.toISOString() ?? null, overdueAt: row?.overdueAt?.toISOString() ?? null,
        reminders: remindersOf(task.id), escalatedAt: escalatedAt(task.id), dueChanges: dueChangesOf(task.id),
        values: row?.values ?? null, decisions: row?.decisions ?? [],
        // A sequential approval: how many stages, and the current (or last reached) one.
        stages: task.kind === 'approval' && task.mode === 'sequential' ? task.stages?.length ?? null : null,
        stage: row?.assignees[0]?.stage ?? null,
      };
    }),
    audit: records.map((r) => ({
      seq: r.seq!, at: r.at.toISOString(), actor: r.actor, action: r.action, outcome: r.outcome, taskId: r.stepId, hash: r.hash!, details: r.details,
    })),
    people: Object.fromEntries(people.map((p) => [p.id, { name: p.name, email: p.email }])),
    verification: { ok: verification.ok, chain: processChain(run.id), records: verification.records, firstBroken: verification.firstBroken ?? null },
  };
}

export type RunRecord = Awaited<ReturnType<typeof exportRun>>;

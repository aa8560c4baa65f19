import {
  ScheduleAlreadyRunning, ScheduleNotFoundError, ScheduleOverlapPolicy, type ScheduleDescription,
} from '@temporalio/client';
import { msOf, validateValues } from '../../journey-language';
import { scheduledProcessStartWorkflow, type ScheduledProcessStart, type ScheduledProcessStartInput } from '../../workflows/contract';
import { appendAudit } from '../audit/records';
import { conflict, DomainError, invalid, notFound } from '../lib/errors';
import { getProcess, getProcessVersion } from './definitions';
import { derivedRunId } from './run-ids';
import { startRun, type ProcessDeps } from './runs';

/** One Schedule per process. */
export const processScheduleId = (processKey: string) => `process-schedule:${processKey}`;

/**
 * While a time's start still runs (its activity retrying, say, while the database is down) one
 * more time waits and later ones are skipped; a time missed while Temporal was down is started
 * late within a day, and skipped after that.
 */
export const SCHEDULE_OVERLAP = ScheduleOverlapPolicy.BUFFER_ONE;
export const SCHEDULE_CATCHUP_WINDOW = '1 day';

/** When a process's Schedule starts runs: a cron expression or an interval, with the inputs each run gets. */
export interface ProcessScheduleSetting {
  cron?: string;
  every?: string;
  timezone: string;
  inputs: Record<string, unknown>;
  paused: boolean;
  note?: string;
}

export interface ProcessScheduleView {
  processKey: string;
  scheduleId: string;
  cron: string | null;
  every: string | null;
  timezone: string;
  inputs: Record<string, unknown>;
  paused: boolean;
  note: string | null;
  overlap: 'buffer_one';
  catchupWindow: string;
  nextRunTimes: string[];
  recentStarts: Array<{ scheduledAt: string; takenAt: string; workflowId: string; runId: string }>;
}


/**
 * Creates or replaces the process's Temporal Schedule. The inputs are checked against the latest
 * published version (422 naming each field; 409 when nothing is published). Audited as
 * `process.schedule_set` in the system chain.
 */
export async function setProcessSchedule(deps: ProcessDeps, key: string, setting: ProcessScheduleSetting, actor: string): Promise<ProcessScheduleView> {
  const process = await getProcess(deps.db, key);
  if (process.latestVersion === null) throw conflict('process_not_published', `The process "${key}" has no published version yet`);
  const { definition } = await getProcessVersion(deps.db, process.id, process.latestVersion);
  const problems = validateValues(definition.inputs, setting.inputs);
  if (problems.length) throw invalid('invalid_inputs', problems[0]!.message, problems.map((p) => ({ path: `body.inputs.${p.field}`, message: p.message })));
  const scheduleId = processScheduleId(key);
  const spec = setting.cron
    ? { cronExpressions: [setting.cron], timezone: setting.timezone }
    : { intervals: [{ every: msOf(setting.every!) }], timezone: setting.timezone };
  const args: [ScheduledProcessStartInput] = [{ processKey: key, scheduleId, inputs: setting.inputs }];
  const action = {
    type: 'startWorkflow' as const,
    workflowType: scheduledProcessStartWorkflow,
    // Temporal appends each scheduled time: the run's id is derived from that.
    workflowId: `process-schedule-run:${key}`,
    args,
    taskQueue: deps.taskQueue,
    memo: { schedule: { cron: setting.cron ?? null, every: setting.every ?? null, timezone: setting.timezone } },
    staticSummary: `Scheduled start of process "${process.name}" (${key})`,
  };
  const state = { paused: setting.paused, note: setting.note ?? (setting.paused ? 'paused' : `process ${key}`) };
  const policies = { overlap: SCHEDULE_OVERLAP, catchupWindow: SCHEDULE_CATCHUP_WINDOW };
  try {
    await deps.temporal.schedule.create({ scheduleId, spec, action, policies, state });
  } catch (err) {
    if (!(err instanceof ScheduleAlreadyRunning)) throw err;
    await deps.temporal.schedule.getHandle(scheduleId).update((previous) => ({ ...previous, spec, action, policies, state: { ...previous.state, ...state } }));
  }
  await appendAudit(deps.db, {
    actor, action: 'process.schedule_set', outcome: setting.paused ? 'paused' : 'set',
    details: { processKey: key, scheduleId, cron: setting.cron ?? null, every: setting.every ?? null, timezone: setting.timezone, inputNames: Object.keys(setting.inputs) },
  });
  return describeProcessSchedule(deps, key);
}

/** The process's Schedule as Temporal has it, with its next run times and its recent starts (each with its run's id); 404 without one. */
export async function describeProcessSchedule(deps: ProcessDeps, key: string): Promise<ProcessScheduleView> {
  const scheduleId = processScheduleId(key);
  let described: ScheduleDescription;
  try {
    described = await deps.temporal.schedule.getHandle(scheduleId).describe();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound('process_schedule', 'process', key);
    throw err;
  }
  if (described.action.type !== 'startWorkflow') throw notFound('process_schedule', 'process', key);
  const memo = (described.action.memo?.schedule ?? {}) as { cron?: string | null; every?: string | null; timezone?: string };
  const input = described.action.args?.[0] as ScheduledProcessStartInput | undefined;
  return {
    processKey: key, scheduleId, cron: memo.cron ?? null, every: memo.every ?? null, timezone: memo.timezone ?? described.spec.timezone ?? 'UTC',
    inputs: input?.inputs ?? {}, paused: described.state.paused, note: described.state.note ?? null,
    overlap: 'buffer_one', catchupWindow: SCHEDULE_CATCHUP_WINDOW,
    nextRunTimes: described.info.nextActionTimes.slice(0, 5).map((d) => d.toISOString()),
    recentStarts: described.info.recentActions.map((a) => ({
      scheduledAt: a.scheduledAt.toISOString(), takenAt: a.takenAt.toISOString(), workflowId: a.action.workflow.workflowId,
      runId: scheduledRunId(a.action.workflow.workflowId),
    })),
  };
}

/** Deletes the process's Schedule (404 without one): no further runs start; runs it started go on. Audited as `process.schedule_deleted`. */
export async function deleteProcessSchedule(deps: ProcessDeps, key: string, actor: string): Promise<string> {
  await getProcess(deps.db, key);
  const scheduleId = processScheduleId(key);
  try {
    await deps.temporal.schedule.getHandle(scheduleId).delete();
  } catch (err) {
    if (err instanceof ScheduleNotFoundError) throw notFound('process_schedule', 'process', key);
    throw err;
  }
  await appendAudit(deps.db, { actor, action: 'process.schedule_deleted', outcome: 'deleted', details: { processKey: key, scheduleId } });
  return scheduleId;
}

/** The run a scheduled time starts: its id derived from the scheduled workflow's id (the Schedule's workflow id and the time). */
export const scheduledRunId = (scheduledWorkflowId: string) => derivedRunId(`schedule:${scheduledWorkflowId}`);

/**
 * One scheduled time's start (the activity behind scheduledProcessStartWorkflow): starts the run
 * once, `startedBy` = `schedule:<schedule id>`. A start that cannot happen (the process unknown
 * or unpublished, inputs the latest version refuses) is skipped and recorded
 * (`process.scheduled_start_skipped`, system chain), so the Schedule does not retry it forever.
 */
export async function startScheduledRun(deps: ProcessDeps, input: ScheduledProcessStartInput & { scheduledWorkflowId: string }): Promise<ScheduledProcessStart> {
  const runId = scheduledRunId(input.scheduledWorkflowId);
  try {
    const run = await startRun(deps, input.processKey, input.inputs, `schedule:${input.scheduleId}`, { runId });
    return { outcome: 'started', runId: run.id };
  } catch (err) {
    if (!(err instanceof DomainError) || ![404, 409, 422].includes(err.status)) throw err;
    await appendAudit(deps.db, {
      actor: `schedule:${input.scheduleId}`, action: 'process.scheduled_start_skipped', outcome: 'skipped',
      workflowId: input.scheduledWorkflowId, idempotencyKey: `${input.scheduledWorkflowId}:skipped`,
      details: { processKey: input.processKey, scheduleId: input.scheduleId, runId, code: err.code, reason: err.message },
    });
    return { outcome: 'skipped', runId, reason: err.message };
  }
}

import { and, eq, isNull, sql } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { auditRecords, enrolments } from '../../db/schema';
import { getJourney, listVersions } from './journeys';

export interface StepStats {
  stepId: string;
  entered: number;
  waitingNow: number;
  medianSecondsInStep: number | null;
}

export interface VariantStats {
  variant: string;
  enrolments: number;
  converted: number;
  conversionRate: number;
  /** 95% Wilson score interval of the conversion rate. */
  confidenceInterval: [number, number];
}

export interface VersionStats {
  version: number;
  entered: number;
  running: number;
  completed: number;
  converted: number;
  cancelled: number;
  failed: number;
  exited: { total: number; byReason: Record<string, number> };
  steps: StepStats[];
  variants: VariantStats[];
}

/** 95% Wilson score interval for k successes out of n. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  if (n === 0) return [0, 0];
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const margin = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, round(centre - margin)), Math.min(1, round(centre + margin))];
}

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** Rows of a raw query, from node-postgres or PGlite (both answer `{ rows }`). */
function rowsOf<T>(result: unknown): T[] {
  return (result as { rows: T[] }).rows;
}

/** Per version and step: entered, waiting now, completed, exited by reason, converted; variants; median time in step. */
export async function journeyStats(db: Database, key: string): Promise<{ key: string; versions: VersionStats[] }> {
  const journey = await getJourney(db, key);
  const versions = await listVersions(db, journey.id);
  const out: VersionStats[] = [];
  for (const { version } of versions) {
    const scope = and(eq(enrolments.journeyId, journey.id), eq(enrolments.journeyVersion, version), isNull(enrolments.testRunId));
    const statuses = await db.select({ status: enrolments.status, n: sql<number>`count(*)::int` }).from(enrolments).where(scope).groupBy(enrolments.status);
    const count = (s: string) => statuses.find((r) => r.status === s)?.n ?? 0;
    const auditScope = and(eq(auditRecords.journeyKey, key), eq(auditRecords.journeyVersion, version), eq(auditRecords.test, false));
    const reasons = await db.select({ reason: sql<string>`${auditRecords.details}->>'reason'`, n: sql<number>`count(distinct ${auditRecords.enrolmentId})::int` })
      .from(auditRecords).where(and(auditScope, eq(auditRecords.action, 'enrolment.exited'))).groupBy(sql`1`);
    const entered = await db.select({ stepId: auditRecords.stepId, n: sql<number>`count(distinct ${auditRecords.enrolmentId})::int` })
      .from(auditRecords).where(and(auditScope, sql`${auditRecords.stepId} is not null`)).groupBy(auditRecords.stepId);
    const waiting = await db.select({ stepId: enrolments.currentStep, n: sql<number>`count(*)::int` }).from(enrolments)
      .where(and(scope, eq(enrolments.status, 'running'))).groupBy(enrolments.currentStep);
    const medians = await db.execute(sql`
      with marks as (
        select enrolment_id, coalesce(step_id, '__end') as step_id, min(at) as at from audit_records
        where journey_key = ${key} and journey_version = ${version} and test = false
          and (step_id is not null or action in ('enrolment.completed', 'enrolment.exited', 'enrolment.converted', 'enrolment.cancelled', 'enrolment.failed'))
        group by 1, 2
      ), spans as (
        select step_id, extract(epoch from lead(at) over (partition by enrolment_id order by at) - at) as seconds from marks
      )
      select step_id, percentile_cont(0.5) within group (order by seconds) as median from spans
      where seconds is not null and step_id <> '__end' group by step_id`);
    const medianOf = new Map(rowsOf<{ step_id: string; median: number }>(medians).map((r) => [r.step_id, Number(r.median)]));
    const variants = await db.execute(sql`
      select a.outcome as variant, count(distinct a.enrolment_id)::int as n, count(distinct a.enrolment_id) filter (where e.status = 'converted')::int as converted
      from audit_records a join enrolments e on e.id = a.enrolment_id
      where a.journey_key = ${key} and a.journey_version = ${version} and a.action = 'split.assigned' and a.test = false
      group by a.outcome order by a.outcome`);
    out.push({
      version,
      entered: statuses.reduce((sum, r) => sum + r.n, 0),
      running: count('running'), completed: count('completed'), converted: count('converted'), cancelled: count('cancelled'), failed: count('failed'),
      exited: { total: count('exited'), byReason: Object.fromEntries(reasons.map((r) => [r.reason ?? 'unknown', r.n])) },
      steps: entered.map((s) => ({
        stepId: s.stepId!, entered: s.n, waitingNow: waiting.find((w) => w.stepId === s.stepId)?.n ?? 0,
        medianSecondsInStep: medianOf.has(s.stepId!) ? round(medianOf.get(s.stepId!)!) : null,
      })),
      variants: rowsOf<{ variant: string; n: number; converted: number }>(variants).map((v) => ({
        variant: v.variant, enrolments: v.n, converted: v.converted, conversionRate: v.n ? round(v.converted / v.n) : 0,
        confidenceInterval: wilson(v.converted, v.n),
      })),
    });
  }
  return { key, versions: out };
}

import { eq } from 'drizzle-orm';
import type { Database } from '../../db/client';
import { resultCounters, type ResultCounterRow } from '../../db/schema';
import type { JourneyDefinition } from '../../journey-language';
import { getJourney, getVersion, listVersions } from './journeys';
import { lift, rate, wilson, type Lift } from './stats';

/** A total and its parts by reason. */
export interface ByReason {
  total: number;
  byReason: Record<string, number>;
}

export interface StepStats {
  stepId: string;
  stepType: string;
  /** Enrolments that entered the step (once each, however often they came back). */
  entered: number;
  /** Enrolments at the step now (not ended). */
  waitingNow: number;
  /** Enrolments that went on from the step: to a next step, or to the journey's end after it. */
  completed: number;
  /** Entered but did not go on (exited, converted, failed or cancelled here, or still here), and its share of entered. */
  dropOff: { count: number; rate: number };
  /** Enrolments that ended by an exit while at this step (an exit step, an exit event). */
  exited: ByReason;
  /** Enrolments that passed this step and converted later (or here). */
  convertedAfter: number;
  emailsSent: number;
  /** Sends the send-time checks refused (consent, suppression, frequency cap...). */
  skipped: ByReason;
  /** Enrolments whose email of this step was opened, clicked (once each). */
  opened: number;
  clicked: number;
}

export interface VariantStats {
  /** The split step. */
  stepId: string;
  variant: string;
  /** The holdout (control) group of the split. */
  holdout: boolean;
  enrolments: number;
  converted: number;
  conversionRate: number;
  /** 95% Wilson score interval of the conversion rate. */
  confidenceInterval: [number, number];
  /** Against the split's control: its holdout, else its first variant; null for the control itself. */
  lift: (Lift & { versus: string }) | null;
}

export interface VersionStats {
  version: number;
  entered: number;
  running: number;
  completed: number;
  converted: number;
  cancelled: number;
  failed: number;
  exited: ByReason;
  /** The steps enrolments entered, in the definition's order. */
  steps: StepStats[];
  variants: VariantStats[];
}

type Counters = Pick<ResultCounterRow, 'journeyVersion' | 'stepId' | 'metric' | 'label' | 'n'>;

/** The counters of one version, looked up by step, metric and label. */
class VersionCounters {
  private readonly byKey = new Map<string, number>();
  private readonly labelsOf = new Map<string, Map<string, number>>();

  constructor(rows: Counters[]) {
    for (const r of rows) {
      this.byKey.set(`${r.stepId}\u0000${r.metric}\u0000${r.label}`, Number(r.n));
      const labels = this.labelsOf.get(`${r.stepId}\u0000${r.metric}`) ?? new Map<string, number>();
      labels.set(r.label, (labels.get(r.label) ?? 0) + Number(r.n));
      this.labelsOf.set(`${r.stepId}\u0000${r.metric}`, labels);
    }
  }

  get(stepId: string, metric: string, label = ''): number {
    return this.byKey.get(`${stepId}\u0000${metric}\u0000${label}`) ?? 0;
  }

  /** A metric's labels and counts, at one step or (stepId undefined) summed over all. */
  labels(metric: string, stepId?: string): Map<string, number> {
    if (stepId !== undefined) return this.labelsOf.get(`${stepId}\u0000${metric}`) ?? new Map();
    const sum = new Map<string, number>();
    for (const [key, labels] of this.labelsOf) {
      if (!key.endsWith(`\u0000${metric}`)) continue;
      for (const [label, n] of labels) sum.set(label, (sum.get(label) ?? 0) + n);
    }
    return sum;
  }

  byReason(metric: string, stepId?: string): ByReason {
    const byReason = Object.fromEntries(this.labels(metric, stepId));
    return { total: Object.values(byReason).reduce((a, b) => a + b, 0), byReason };
  }
}

function stepStats(c: VersionCounters, step: { id: string; type: string }): StepStats {
  const entered = c.get(step.id, 'entered');
  const completed = c.get(step.id, 'completed');
  return {
    stepId: step.id, stepType: step.type, entered, waitingNow: c.get(step.id, 'at'), completed,
    dropOff: { count: entered - completed, rate: rate(entered - completed, entered) },
    exited: c.byReason('exited', step.id), convertedAfter: c.get(step.id, 'converted_after'),
    emailsSent: c.get(step.id, 'email_sent'), skipped: c.byReason('email_skipped', step.id),
    opened: c.get(step.id, 'opened'), clicked: c.get(step.id, 'clicked'),
  };
}

/** Each split's variants in the definition's order, the holdout last, each against the split's control. */
function variantStats(c: VersionCounters, definition: JourneyDefinition): VariantStats[] {
  return definition.steps.flatMap((step) => {
    if (step.type !== 'split') return [];
    const groups = [...step.variants.map((v) => ({ id: v.id, holdout: false })), ...(step.holdout ? [{ id: 'holdout', holdout: true }] : [])]
      .map((g) => ({ ...g, n: c.get(step.id, 'variant', g.id), k: c.get(step.id, 'variant_converted', g.id) }));
    const control = groups.find((g) => g.holdout) ?? groups[0]!;
    return groups.map((g) => {
      const l = g === control ? null : lift(g.k, g.n, control.k, control.n);
      return {
        stepId: step.id, variant: g.id, holdout: g.holdout, enrolments: g.n, converted: g.k,
        conversionRate: rate(g.k, g.n), confidenceInterval: wilson(g.k, g.n), lift: l && { versus: control.id, ...l },
      };
    });
  });
}

function versionStats(version: number, definition: JourneyDefinition, rows: Counters[]): VersionStats {
  const c = new VersionCounters(rows);
  const ended = c.labels('ended');
  const count = (status: string) => ended.get(status) ?? 0;
  const entered = c.get('', 'started');
  return {
    version, entered, running: entered - [...ended.values()].reduce((a, b) => a + b, 0),
    completed: count('completed'), converted: count('converted'), cancelled: count('cancelled'), failed: count('failed'),
    exited: c.byReason('exited'),
    steps: definition.steps.filter((s) => c.get(s.id, 'entered') > 0).map((s) => stepStats(c, s)),
    variants: variantStats(c, definition),
  };
}

/**
 * Per version and step, from the counters the audit trigger keeps (`result_counters`): one
 * indexed read of the journey's counters, whatever the size of the audit.
 */
export async function journeyStats(db: Database, key: string): Promise<{ key: string; versions: VersionStats[] }> {
  const journey = await getJourney(db, key);
  const versions = await listVersions(db, journey.id);
  const rows = await db.select({
    journeyVersion: resultCounters.journeyVersion, stepId: resultCounters.stepId, metric: resultCounters.metric, label: resultCounters.label, n: resultCounters.n,
  }).from(resultCounters).where(eq(resultCounters.journeyKey, key));
  const out: VersionStats[] = [];
  for (const { version } of versions) {
    const { definition } = await getVersion(db, journey.id, version);
    out.push(versionStats(version, definition, rows.filter((r) => r.journeyVersion === version)));
  }
  return { key, versions: out };
}

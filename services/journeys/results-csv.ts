import type { VersionStats } from './results';

/**
 * A text cell as CSV: quoted when it holds a comma, a quote or a line break, and defused when a
 * spreadsheet would read it as a formula (it starts with = + - @, a tab or a carriage return):
 * then it gets a leading apostrophe (OWASP's CSV injection advice). Numbers are ours and go as they are.
 */
export function csvCell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

const HEADER = ['version', 'step', 'variant', 'metric', 'reason', 'value'] as const;
type Line = [version: number, step: string, variant: string, metric: string, reason: string, value: number];

function stepLines(v: VersionStats): Line[] {
  return v.steps.flatMap((s) => {
    const at = (metric: string, value: number, reason = ''): Line => [v.version, s.stepId, '', metric, reason, value];
    return [
      at('entered', s.entered), at('completed', s.completed), at('waiting_now', s.waitingNow),
      at('drop_off', s.dropOff.count), at('drop_off_rate', s.dropOff.rate),
      at('exited', s.exited.total), ...Object.entries(s.exited.byReason).map(([reason, n]) => at('exited', n, reason)),
      at('converted_after', s.convertedAfter), at('emails_sent', s.emailsSent),
      at('skipped', s.skipped.total), ...Object.entries(s.skipped.byReason).map(([reason, n]) => at('skipped', n, reason)),
      at('opened', s.opened), at('clicked', s.clicked),
    ];
  });
}

function variantLines(v: VersionStats): Line[] {
  return v.variants.flatMap((x) => {
    const at = (metric: string, value: number): Line => [v.version, x.stepId, x.variant, metric, '', value];
    return [
      at('enrolments', x.enrolments), at('converted', x.converted), at('conversion_rate', x.conversionRate),
      at('conversion_rate_ci_low', x.confidenceInterval[0]), at('conversion_rate_ci_high', x.confidenceInterval[1]),
      ...(x.lift ? [at('lift', x.lift.difference), at('lift_ci_low', x.lift.confidenceInterval[0]), at('lift_ci_high', x.lift.confidenceInterval[1])] : []),
    ];
  });
}

/**
 * The results as CSV, one figure per line (`version,step,variant,metric,reason,value`): the
 * version's totals (step empty), each step's figures, each variant's; ready for a pivot table.
 */
export function resultsCsv(versions: VersionStats[]): string {
  const lines: Line[] = versions.flatMap((v) => {
    const total = (metric: string, value: number, reason = ''): Line => [v.version, '', '', metric, reason, value];
    return [
      total('entered', v.entered), total('running', v.running), total('completed', v.completed), total('converted', v.converted),
      total('cancelled', v.cancelled), total('failed', v.failed),
      total('exited', v.exited.total), ...Object.entries(v.exited.byReason).map(([reason, n]) => total('exited', n, reason)),
      ...stepLines(v), ...variantLines(v),
    ];
  });
  return [HEADER.join(','), ...lines.map((l) => l.map(csvCell).join(','))].join('\r\n') + '\r\n';
}

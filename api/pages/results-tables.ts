import type { JourneyDefinition } from '../../journey-language';
import type { ByReason, VersionStats } from '../../services/journeys/results';
import { escapeHtml as e } from './layout';

const percent = (x: number) => `${(x * 100).toFixed(1)}%`;
const interval = ([lo, hi]: [number, number]) => `${percent(lo)} to ${percent(hi)}`;
const reasons = (r: ByReason) => r.total === 0 ? '0'
  : `${r.total} <span class="muted">(${Object.entries(r.byReason).map(([reason, n]) => `${e(reason)}: ${n}`).join(', ')})</span>`;

/** Per step, in the definition's order: entered, went on, drop-off, exits, conversions, email figures. */
export function stepsTable(definition: JourneyDefinition, stats: VersionStats): string {
  const rows = definition.steps.map((step) => {
    const s = stats.steps.find((x) => x.stepId === step.id);
    const cells = s
      ? [s.entered, s.completed, `${s.dropOff.count} (${percent(s.dropOff.rate)})`, s.waitingNow, reasons(s.exited), s.convertedAfter,
        step.type === 'send_email' ? `${s.emailsSent} / ${reasons(s.skipped)} / ${s.opened} / ${s.clicked}` : '']
      : [0, 0, '0', 0, '0', 0, ''];
    return `<tr data-step-row="${e(step.id)}"><th scope="row">${e(step.id)} <span class="muted">${e(step.type)}</span></th>${cells.map((c, i) => `<td class="c${i}">${c}</td>`).join('')}</tr>`;
  }).join('');
  return `<h2>Steps</h2>
<table id="steps"><thead><tr><th scope="col">Step</th><th scope="col">Entered</th><th scope="col">Went on</th><th scope="col">Drop-off</th><th scope="col">Waiting now</th><th scope="col">Exited here</th><th scope="col">Converted after</th><th scope="col">Emails sent / skipped / opened / clicked</th></tr></thead>
<tbody>${rows}</tbody></table>`;
}

/** Each split's variants: conversion with its interval, and lift over the control with its interval. */
export function variantsTable(stats: VersionStats): string {
  if (!stats.variants.length) return '';
  const rows = stats.variants.map((v) => `<tr data-variant="${e(v.stepId)}:${e(v.variant)}"><td>${e(v.stepId)}</td><td>${e(v.variant)}${v.holdout ? ' <span class="muted">(control)</span>' : ''}</td><td>${v.enrolments}</td><td>${v.converted}</td>
<td>${percent(v.conversionRate)} <span class="muted">(${interval(v.confidenceInterval)})</span></td>
<td class="lift">${v.lift ? `${v.lift.difference >= 0 ? '+' : ''}${(v.lift.difference * 100).toFixed(1)} pts <span class="muted">(${interval(v.lift.confidenceInterval)} vs ${e(v.lift.versus)})</span>` : '<span class="muted">control</span>'}</td></tr>`).join('');
  return `<h2>Variants</h2>
<table id="variants"><thead><tr><th scope="col">Split</th><th scope="col">Variant</th><th scope="col">Enrolments</th><th scope="col">Converted</th><th scope="col">Rate (95% CI)</th><th scope="col">Lift (95% CI)</th></tr></thead>
<tbody>${rows}</tbody></table>
<p class="muted">Rates with Wilson intervals; lift is the difference in conversion rate against the split's control (its holdout, else its first variant), with Newcombe's interval. An interval that spans 0 means no detectable difference yet.</p>`;
}

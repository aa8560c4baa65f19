import { exits, type JourneyDefinition } from '../../journey-language';
import type { VersionStats } from '../../services/journeys/results';
import { escapeHtml as e, page } from './layout';
import { stepsTable, variantsTable } from './results-tables';

/** A horizontal funnel: one bar per step (in definition order), its length the enrolments that entered it. */
export function funnelSvg(definition: JourneyDefinition, stats: VersionStats): string {
  const rows = definition.steps.map((s) => ({ id: s.id, type: s.type, entered: stats.steps.find((x) => x.stepId === s.id)?.entered ?? 0 }));
  const max = Math.max(1, stats.entered, ...rows.map((r) => r.entered));
  const height = 34;
  const bars = rows.map((r, i) => {
    const width = Math.round((r.entered / max) * 420);
    const y = i * height;
    return `<g transform="translate(0 ${y})" data-step="${e(r.id)}">
  <text x="0" y="20" font-size="13">${e(r.id)}</text>
  <rect x="170" y="6" width="${Math.max(width, 1)}" height="20" fill="#2563eb" rx="3"><title>${e(r.id)}: ${r.entered} entered</title></rect>
  <text x="${176 + width}" y="21" font-size="13" class="count">${r.entered}</text>
</g>`;
  }).join('\n');
  return `<svg role="img" aria-label="Funnel: enrolments entering each step" width="640" height="${rows.length * height + 8}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">
${bars}
</svg>`;
}

/** The journey graph: steps laid out by depth from the first step, arrows for each `next`. */
export function graphSvg(definition: JourneyDefinition): string {
  const depth = new Map<string, number>();
  const queue: string[] = [definition.steps[0]!.id];
  depth.set(queue[0]!, 0);
  const byId = new Map(definition.steps.map((s) => [s.id, s]));
  while (queue.length) {
    const id = queue.shift()!;
    for (const exit of exits(byId.get(id)!)) {
      if (!depth.has(exit.target)) {
        depth.set(exit.target, depth.get(id)! + 1);
        queue.push(exit.target);
      }
    }
  }
  const columns = new Map<number, string[]>();
  for (const s of definition.steps) columns.set(depth.get(s.id) ?? 0, [...(columns.get(depth.get(s.id) ?? 0) ?? []), s.id]);
  const pos = new Map<string, { x: number; y: number }>();
  for (const [d, ids] of columns) ids.forEach((id, i) => pos.set(id, { x: 10 + d * 170, y: 10 + i * 60 }));
  const edges = definition.steps.flatMap((s) => exits(s).map((x) => {
    const a = pos.get(s.id)!;
    const b = pos.get(x.target)!;
    return `<line x1="${a.x + 140}" y1="${a.y + 20}" x2="${b.x}" y2="${b.y + 20}" stroke="#888" marker-end="url(#arrow)"/>`;
  })).join('\n');
  const nodes = definition.steps.map((s) => {
    const p = pos.get(s.id)!;
    return `<g><rect x="${p.x}" y="${p.y}" width="140" height="40" rx="6" fill="#f3f4f6" stroke="#444"/><text x="${p.x + 8}" y="${p.y + 17}" font-size="12" font-weight="bold">${e(s.id)}</text><text x="${p.x + 8}" y="${p.y + 32}" font-size="11" fill="#555">${e(s.type)}</text></g>`;
  }).join('\n');
  const width = Math.max(...[...pos.values()].map((p) => p.x)) + 160;
  const height = Math.max(...[...pos.values()].map((p) => p.y)) + 60;
  return `<svg role="img" aria-label="Journey graph" width="${width}" height="${height}" xmlns="http://www.w3.org/2000/svg" font-family="system-ui, sans-serif">
<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#888"/></marker></defs>
${edges}
${nodes}
</svg>`;
}

export function journeyPage(name: string, key: string, definition: JourneyDefinition, stats: VersionStats): string {
  const cell = (label: string, value: number | string, id: string) => `<div class="stat"><span class="muted">${label}</span> <strong id="${id}">${value}</strong></div>`;
  const body = `<h1>${e(name)} <span class="muted">(${e(key)} v${stats.version})</span></h1>
<div class="stats">
${cell('Entered', stats.entered, 'stat-entered')}${cell('Running', stats.running, 'stat-running')}${cell('Completed', stats.completed, 'stat-completed')}
${cell('Converted', stats.converted, 'stat-converted')}${cell('Exited', stats.exited.total, 'stat-exited')}
</div>
<h2>Funnel</h2>
${funnelSvg(definition, stats)}
${stepsTable(definition, stats)}
${variantsTable(stats)}
<p><a id="csv" href="/journeys/${encodeURIComponent(key)}/results.csv" download>Download the results (CSV, every version)</a></p>
<h2>Journey</h2>
${graphSvg(definition)}`;
  return page(`${name}: results`, body, 'wide');
}

import type { RunRecord } from '../../services/processes/export';
import { escapeHtml as e, page } from './layout';

type Task = RunRecord['checklist'][number];

const MARKS: Record<Task['status'], string> = {
  done: '✓', approved: '✓', rejected: '✗', skipped: '–', cancelled: '–', open: '○', pending: '·',
};
const when = (iso: string | null) => (iso ? `${iso.replace('T', ' ').slice(0, 16)} UTC` : '');

function person(record: RunRecord, id: string | null): string {
  if (!id) return '';
  const p = record.people[id];
  return p ? `${e(p.name)} &lt;${e(p.email)}&gt;` : e(id);
}

function taskItem(record: RunRecord, t: Task): string {
  const notes: string[] = [];
  if (t.status === 'skipped') notes.push('Skipped: its condition was false');
  if ((t.status === 'done' || t.status === 'approved' || t.status === 'rejected') && t.completedBy) {
    notes.push(`${t.status === 'done' ? 'Done' : t.status === 'approved' ? 'Approved' : 'Rejected'} by ${person(record, t.completedBy)} on ${when(t.finishedAt)}`);
  }
  if (t.stages && t.stage) notes.push(`<span class="stage">${t.status === 'open' ? 'At stage' : 'Reached stage'} ${t.stage} of ${t.stages}</span>`);
  if (t.dueAt && t.status !== 'skipped') notes.push(`Due ${when(t.dueAt)}`);
  const moved = t.dueChanges.at(-1);
  if (moved) {
    const times = t.dueChanges.length === 1 ? 'once' : `${t.dueChanges.length} times`;
    notes.push(`<span class="due-changes">Due date moved ${times}, last on ${when(moved.at)} by ${e(moved.by)}: “${e(moved.reason)}”</span>`);
  }
  if (t.overdueAt && t.status === 'open') notes.push(`<strong class="error overdue">Overdue since ${when(t.overdueAt)}</strong>`);
  else if (t.overdueAt) notes.push(`Was overdue from ${when(t.overdueAt)}`);
  if (t.reminders) notes.push(`<span class="reminders">Reminded ${t.reminders === 1 ? 'once' : `${t.reminders} times`}</span>`);
  if (t.escalatedAt) notes.push(`<span class="escalated">Escalated on ${when(t.escalatedAt)}</span>`);
  const decisions = t.decisions.length
    ? `<ul class="decisions">${t.decisions.map((d) => `<li>${d.stage ? `Stage ${d.stage}: ` : ''}${d.decision === 'approve' ? 'Approved' : 'Rejected'} by ${person(record, d.userId)} on ${when(d.at)}${d.comment ? `: “${e(d.comment)}”` : ''}</li>`).join('')}</ul>`
    : '';
  return `<li data-task="${e(t.taskId)}" data-status="${t.status}">
  <span class="mark" aria-hidden="true">${MARKS[t.status]}</span> <strong class="title">${e(t.title)}</strong>
  <span class="status">(${t.status}${t.stop ? ', stop task' : ''})</span>
  ${notes.length ? `<div class="muted notes">${notes.join(' · ')}</div>` : ''}
  ${decisions}
</li>`;
}

function verification(record: RunRecord): string {
  const v = record.verification;
  return v.ok
    ? `<p id="verification" data-ok="true">Audit chain <code>${e(v.chain)}</code>: verified, ${v.records} records, every hash links to the one before.</p>`
    : `<p id="verification" data-ok="false" class="error" role="alert">Audit chain <code>${e(v.chain)}</code>: BROKEN at record ${v.firstBroken?.seq ?? '?'} (${e(v.firstBroken?.reason ?? 'unknown')}).</p>`;
}

function auditTable(record: RunRecord): string {
  return `<h2>Audit records</h2>
<table id="audit">
<thead><tr><th>#</th><th>At</th><th>Who</th><th>What</th><th>Outcome</th><th>Task</th><th>Hash (SHA-256)</th></tr></thead>
<tbody>
${record.audit.map((r) => `<tr data-seq="${r.seq}"><td>${r.seq}</td><td>${when(r.at)}</td><td>${r.actor.startsWith('user:') ? person(record, r.actor.slice(5)) : e(r.actor)}</td><td>${e(r.action)}</td><td>${e(r.outcome)}</td><td>${e(r.taskId ?? '')}</td><td><code>${e(r.hash)}</code></td></tr>`).join('\n')}
</tbody>
</table>`;
}

/**
 * A run's checklist as a page: sections in order, each task's mark, status, who finished it and
 * when, what is overdue, skipped conditional tasks and each decision, with the chain's
 * verification. `printable` adds the run's inputs and every audit record with its hash (the
 * "audit-ready proof"); otherwise the page links to the exports. Everything from people is escaped.
 */
export function processRunPage(record: RunRecord, name: string, options: { printable: boolean; exportBase?: string }): string {
  const { run, progress } = record;
  const sections = [...new Set(record.checklist.map((t) => t.section))];
  const summary = `<p class="stats"><span>Status: <strong id="run-status">${run.status}</strong></span>
<span>Done: <strong id="progress">${progress.done} of ${progress.total}</strong></span>
<span>Overdue: <strong id="overdue">${progress.overdue.length}</strong></span>
<span>Skipped: <strong id="skipped">${progress.skipped}</strong></span></p>
<p class="muted">Version ${run.version} · run <code>${e(run.id)}</code> · started ${when(run.startedAt)} by ${e(run.startedBy)}${run.endedAt ? ` · ended ${when(run.endedAt)}` : ''}</p>`;
  const links = options.exportBase
    ? `<p><a href="${e(options.exportBase)}?format=html">Printable record (audit-ready proof)</a> · <a href="${e(options.exportBase)}?format=csv" download>Download the record as CSV</a></p>`
    : '';
  const inputs = options.printable
    ? `<h2>Inputs</h2><table id="inputs"><tbody>${Object.entries(run.inputs).map(([k, v]) => `<tr><th>${e(k)}</th><td>${e(JSON.stringify(v))}</td></tr>`).join('')}</tbody></table>`
    : '';
  const body = `<h1>${e(name)}</h1>
${summary}
${verification(record)}
${links}
${inputs}
${sections.map((s) => `<section aria-label="${e(s)}"><h2>${e(s)}</h2>
<ol>${record.checklist.filter((t) => t.section === s).map((t) => taskItem(record, t)).join('\n')}</ol></section>`).join('\n')}
${options.printable ? auditTable(record) : ''}
${options.printable ? `<p class="muted">Exported ${when(new Date().toISOString())}. Verification was recomputed from the stored records at export time.</p>` : ''}`;
  return page(`${name}: ${options.printable ? 'run record' : 'checklist'}`, body, 'wide');
}

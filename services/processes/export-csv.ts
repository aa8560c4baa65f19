import { csvCell } from '../journeys/results-csv';
import type { RunRecord } from './export';

const HEADER = ['record', 'section', 'task', 'title', 'status', 'by', 'at', 'due_at', 'overdue_at', 'seq', 'action', 'outcome', 'hash'] as const;
type Line = Record<(typeof HEADER)[number], string | number>;
const blank: Line = { record: '', section: '', task: '', title: '', status: '', by: '', at: '', due_at: '', overdue_at: '', seq: '', action: '', outcome: '', hash: '' };

/**
 * A run's record as CSV, one line per fact: `run`, each checklist `task` (who finished it and
 * when), each approver's `decision` (its stage in `outcome`, in a sequential approval), each `audit` record with its hash, and the chain's
 * `verification`. Every text cell goes through csvCell: quoted as needed and defused when a
 * spreadsheet would read it as a formula (titles, section names and names come from people).
 */
export function runRecordCsv(record: RunRecord): string {
  const who = (id: string | null) => (id ? `${record.people[id]?.email ?? id}` : '');
  const lines: Line[] = [
    { ...blank, record: 'run', task: record.run.processKey, title: `version ${record.run.version}`, status: record.run.status, by: record.run.startedBy, at: record.run.startedAt },
    ...record.checklist.flatMap((t) => [
      { ...blank, record: 'task', section: t.section, task: t.taskId, title: t.title, status: t.status, by: who(t.completedBy), at: t.finishedAt ?? '', due_at: t.dueAt ?? '', overdue_at: t.overdueAt ?? '' },
      ...t.decisions.map((d) => ({
        ...blank, record: 'decision', section: t.section, task: t.taskId, title: t.title, status: d.decision, by: who(d.userId), at: d.at, outcome: d.stage ? `stage ${d.stage}` : '',
      })),
    ]),
    ...record.audit.map((r) => ({ ...blank, record: 'audit', task: r.taskId ?? '', by: r.actor, at: r.at, seq: r.seq, action: r.action, outcome: r.outcome, hash: r.hash })),
    {
      ...blank, record: 'verification', status: record.verification.ok ? 'ok' : 'broken', seq: record.verification.records,
      action: record.verification.chain, outcome: record.verification.firstBroken ? `${record.verification.firstBroken.reason} at seq ${record.verification.firstBroken.seq}` : '',
    },
  ];
  return [HEADER.join(','), ...lines.map((l) => HEADER.map((h) => csvCell(l[h])).join(','))].join('\r\n') + '\r\n';
}

import type { AuditRecordRow } from '../../db/schema';

const ENDS = ['enrolment.completed', 'enrolment.converted', 'enrolment.exited', 'enrolment.cancelled', 'enrolment.failed'];
const ENGAGEMENT = ['email.opened', 'email.clicked'];

/**
 * The results counters recounted from scratch, in TypeScript, from a journey's audit records:
 * what `result_counters` must hold (`<version>|<step>|<metric>|<label>` → n, zeros left out).
 * Written apart from the trigger, to the definitions in docs/api.md, so each checks the other.
 */
export function recountResults(records: AuditRecordRow[]): Map<string, number> {
  const counters = new Map<string, number>();
  const passes = new Map<string, { entered: boolean; wentOn: boolean; opened: boolean; clicked: boolean; variant?: string; version: number; stepId: string }>();
  const at = new Map<string, string>();
  for (const r of [...records].sort((a, b) => a.id - b.id)) {
    if (r.test || r.journeyKey === null || r.journeyVersion === null) continue;
    const version = r.journeyVersion;
    const bump = (step: string, metric: string, label = '', d = 1) => {
      const key = `${version}|${step}|${metric}|${label}`;
      counters.set(key, (counters.get(key) ?? 0) + d);
    };
    const pass = (enrolmentId: string, stepId: string) => {
      const key = `${enrolmentId}|${stepId}`;
      if (!passes.has(key)) passes.set(key, { entered: false, wentOn: false, opened: false, clicked: false, version, stepId });
      return passes.get(key)!;
    };
    const goOn = (enrolmentId: string, stepId: string) => {
      const p = pass(enrolmentId, stepId);
      if (!p.wentOn) bump(stepId, 'completed');
      p.wentOn = true;
    };
    if (r.action === 'enrolment.started') { bump('', 'started'); continue; }
    if (!r.enrolmentId) continue;
    const e = r.enrolmentId;
    if (ENGAGEMENT.includes(r.action)) {
      if (!r.stepId) continue;
      const p = pass(e, r.stepId);
      const flag = r.action === 'email.opened' ? 'opened' : 'clicked';
      if (!p[flag]) bump(r.stepId, flag);
      p[flag] = true;
      continue;
    }
    const prev = at.get(e);
    if (ENDS.includes(r.action)) {
      const status = r.action.slice('enrolment.'.length);
      bump(prev ?? '', 'ended', status);
      if (prev) bump(prev, 'at', '', -1);
      if (status === 'exited') bump(prev ?? '', 'exited', String(r.details.reason ?? 'unknown'));
      if (status === 'completed' && prev) goOn(e, prev);
      if (status === 'converted') {
        for (const [key, p] of passes) {
          if (!key.startsWith(`${e}|`)) continue;
          if (p.entered) bump(p.stepId, 'converted_after');
          if (p.variant !== undefined) bump(p.stepId, 'variant_converted', p.variant);
        }
      }
      continue;
    }
    if (!r.stepId) continue;
    if (prev !== r.stepId) {
      if (prev) { goOn(e, prev); bump(prev, 'at', '', -1); }
      bump(r.stepId, 'at');
    }
    at.set(e, r.stepId);
    const p = pass(e, r.stepId);
    if (!p.entered) bump(r.stepId, 'entered');
    p.entered = true;
    if (r.action === 'email.sent' || r.action === 'email.captured') bump(r.stepId, 'email_sent');
    if (r.action === 'email.skipped' || r.action === 'email.unknown') bump(r.stepId, r.action.replace('.', '_'), String(r.details.reason ?? 'unknown'));
    if (r.action === 'split.assigned' && p.variant === undefined) { p.variant = r.outcome; bump(r.stepId, 'variant', r.outcome); }
  }
  for (const [key, n] of counters) if (n === 0) counters.delete(key);
  return counters;
}

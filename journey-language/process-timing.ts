import { z } from 'zod';
import { TimeZoneSchema } from './contact-fields';
import { DurationSchema } from './steps';
import { WEEKDAYS, type Weekday } from './time-of-day';

/**
 * When a process task falls due and when its holders are reminded: the `due` and `remind` parts
 * of a task (docs/processes.md). A due date counts a duration, or whole business days in a time
 * zone (weekends and holidays skipped; computed in services/processes/business-days.ts when the
 * task opens). Reminders go out every so often while the task is open, from when it opened or
 * from when it fell due.
 */
export const BUSINESS_WEEK: Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri'];
/** At most this many business days: a due date is at most about a year and a half away. */
export const MAX_BUSINESS_DAYS = 365;

export const BusinessDaysSchema = z.object({
  timezone: TimeZoneSchema.describe('the IANA time zone the days are counted in, such as "Europe/Berlin"'),
  weekdays: z.array(z.enum(WEEKDAYS)).min(1).max(7).default(BUSINESS_WEEK).describe('the working days (Monday to Friday when absent)'),
  holidays: z.array(z.iso.date()).max(366).default([]).describe('dates ("2026-12-25") that are no business day'),
}).strict().meta({ id: 'ProcessBusinessDays' });
export type BusinessDays = z.infer<typeof BusinessDaysSchema>;

export const ProcessRemindSchema = z.object({
  every: DurationSchema.describe('how long after `from`, and then between reminders, each reminder goes out'),
  max: z.int().min(1).max(20).default(3).describe('how many reminders at most'),
  from: z.enum(['opened', 'due']).default('opened').describe('count from when the task opened, or from its due time'),
}).strict().meta({ id: 'ProcessRemind' });

/** The whole business days a business-day due date counts ("3d" → 3); undefined when `after` is not whole days. */
export function businessDaysOf(after: string): number | undefined {
  const match = /^(\d+)d$/.exec(after.trim());
  return match ? Number(match[1]) : undefined;
}

/** A task's timing problems (due, remind, escalate), each with its path within the task. */
export function timingProblems(task: {
  due?: { after: string; businessDays?: BusinessDays }; remind?: { from: 'opened' | 'due' }; escalate?: { from: 'opened' | 'due' }; assignee?: unknown; kind: string;
}): Array<{ path: Array<string | number>; message: string }> {
  const problems: Array<{ path: Array<string | number>; message: string }> = [];
  if (task.due?.businessDays) {
    const days = businessDaysOf(task.due.after);
    if (days === undefined || days < 1 || days > MAX_BUSINESS_DAYS) {
      problems.push({ path: ['due', 'after'], message: `business days are whole days, 1d to ${MAX_BUSINESS_DAYS}d ("3d")` });
    }
  }
  for (const part of ['remind', 'escalate'] as const) {
    if (task[part]?.from === 'due' && !task.due) problems.push({ path: [part, 'from'], message: `${part === 'remind' ? 'reminders from the due time need' : 'an escalation from the due time needs'} a \`due\`` });
  }
  if (task.remind && task.kind !== 'approval' && task.assignee === undefined) {
    problems.push({ path: ['remind'], message: 'anyone may act on a task without an assignee, so nobody is reminded: give it an assignee' });
  }
  return problems;
}

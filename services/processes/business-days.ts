import { BUSINESS_WEEK, businessDaysOf, WEEKDAYS, type BusinessDays } from '../../journey-language';
import { instantOf, localParts } from '../enrolment/quiet-hours';

/**
 * Business-day due dates: `days` business days after `base`, counted in the calendar's time zone.
 * The local date of `base` moves a day at a time; each day that is one of the calendar's
 * weekdays (Monday to Friday by default) and not one of its holidays counts one. The due time is
 * the day the count reaches `days`, at the same local time of day as `base` (so a task opened
 * Friday 10:00 with 1 business day is due Monday 10:00, and one opened Saturday is due Monday at
 * the same time too). Daylight saving: the local time is kept across a change; a local time the
 * landing day does not have (spring forward) moves to the first instant after the gap, one it has
 * twice (fall back) takes the first.
 */
export function addBusinessDays(base: Date, days: number, calendar: Pick<BusinessDays, 'timezone'> & Partial<BusinessDays>): Date {
  if (!Number.isInteger(days) || days < 1) throw new RangeError(`business days are whole and at least 1, not ${days}`);
  const weekdays = new Set(calendar.weekdays?.length ? calendar.weekdays : BUSINESS_WEEK);
  const holidays = new Set(calendar.holidays ?? []);
  const instant = base.getTime();
  const local = localParts(instant, calendar.timezone);
  // Weekdays and holidays hold at most 6 of 7 days and 366 dates back: this bounds the walk.
  const limit = days * 7 + holidays.size + 7;
  let counted = 0;
  for (let k = 1; k <= limit; k++) {
    const day = new Date(Date.UTC(local.year, local.month - 1, local.day + k));
    const iso = day.toISOString().slice(0, 10);
    if (!weekdays.has(WEEKDAYS[day.getUTCDay()]!) || holidays.has(iso)) continue;
    if (++counted < days) continue;
    const at = firstInstantOf(day, local.hour, local.minute, calendar.timezone);
    return new Date(at + local.second * 1000 + (((instant % 1000) + 1000) % 1000));
  }
  throw new RangeError('no business day within reach (are the weekdays empty?)');
}

/** The first instant a local date and time happens (instantOf may answer the second of a fall-back hour). */
function firstInstantOf(day: Date, hour: number, minute: number, timeZone: string): number {
  const at = instantOf(day.getUTCFullYear(), day.getUTCMonth() + 1, day.getUTCDate(), hour, minute, timeZone);
  const same = (c: number) => {
    const p = localParts(c, timeZone);
    return p.day === day.getUTCDate() && p.hour === hour && p.minute === minute;
  };
  // Clocks go back by an hour, or by half an hour in a few zones.
  return [at - 3_600_000, at - 1_800_000].find(same) ?? at;
}

/** A business-day due time as a run's task opening asks for it: `after` ("3d") counted from `from`. */
export interface BusinessDue {
  from: string;
  after: string;
  calendar: BusinessDays;
}

/** The due time (ISO) of a business-day due date. */
export function businessDueAt(due: BusinessDue): string {
  const days = businessDaysOf(due.after);
  if (days === undefined) throw new RangeError(`business days are whole days ("3d"), not "${due.after}"`);
  return addBusinessDays(new Date(due.from), days, due.calendar).toISOString();
}

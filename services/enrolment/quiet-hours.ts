/**
 * Wait-until computations in a contact's time zone: the next time of day on an allowed weekday
 * ("at"), or the next moment inside a sending window ("between"). Daylight-saving aware: a local
 * time that does not exist (spring forward) moves to the first valid instant after it; one that
 * happens twice (fall back) takes the first.
 */
import { WEEKDAYS, type WaitUntil } from '../../journey-language/time-of-day';

export type { WaitUntil, Weekday } from '../../journey-language/time-of-day';

export interface LocalParts { year: number; month: number; day: number; hour: number; minute: number; second: number }

const formatters = new Map<string, Intl.DateTimeFormat>();

export function localParts(instant: number, timeZone: string): LocalParts {
  let fmt = formatters.get(timeZone);
  if (!fmt) {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formatters.set(timeZone, fmt);
  }
  const parts = Object.fromEntries(fmt.formatToParts(new Date(instant)).map((p) => [p.type, p.value]));
  return {
    year: Number(parts.year), month: Number(parts.month), day: Number(parts.day),
    hour: Number(parts.hour), minute: Number(parts.minute), second: Number(parts.second),
  };
}

/** Offset of the zone from UTC at an instant, in ms. */
function offsetAt(instant: number, timeZone: string): number {
  const p = localParts(instant, timeZone);
  return Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second) - Math.floor(instant / 1000) * 1000;
}

/** The instant a local wall-clock time happens in a zone (see the DST rules above). */
export function instantOf(year: number, month: number, day: number, hour: number, minute: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day, hour, minute);
  const first = wall - offsetAt(wall, timeZone);
  const second = wall - offsetAt(first, timeZone);
  const candidates = [first, second].filter((c) => {
    const p = localParts(c, timeZone);
    return p.hour === hour && p.minute === minute && p.day === day;
  });
  if (candidates.length) return Math.min(...candidates);
  // The wall time does not exist (a spring-forward gap): take the later offset's reading.
  return Math.max(first, second);
}

function minutesOf(hhmm: string): number {
  const [h, m] = hhmm.split(':').map(Number);
  return h! * 60 + m!;
}

/** When a wait-until step ends, at or after `from`, in `timeZone`. */
export function nextAllowedInstant(from: Date, rule: WaitUntil, timeZone: string): Date {
  const now = from.getTime();
  const allowed = (y: number, m: number, d: number) =>
    !rule.weekdays?.length || rule.weekdays.includes(WEEKDAYS[new Date(Date.UTC(y, m - 1, d)).getUTCDay()]!);
  const today = localParts(now, timeZone);
  if (rule.between) {
    const minute = today.hour * 60 + today.minute;
    const start = minutesOf(rule.between.start);
    const end = minutesOf(rule.between.end);
    const inside = start <= end ? minute >= start && minute < end : minute >= start || minute < end;
    if (inside && allowed(today.year, today.month, today.day)) return from;
  }
  const target = minutesOf(rule.at ?? rule.between!.start);
  for (let k = 0; k <= 8; k++) {
    const date = new Date(Date.UTC(today.year, today.month - 1, today.day + k));
    const [y, m, d] = [date.getUTCFullYear(), date.getUTCMonth() + 1, date.getUTCDate()];
    if (!allowed(y, m, d)) continue;
    const candidate = instantOf(y, m, d, Math.floor(target / 60), target % 60, timeZone);
    if (candidate > now) return new Date(candidate);
  }
  throw new Error('no allowed day within a week (weekdays is empty?)');
}

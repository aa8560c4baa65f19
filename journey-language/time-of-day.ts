/** Weekdays and time-of-day rules of wait steps (computed in services/enrolment/quiet-hours.ts). */
export const WEEKDAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
export type Weekday = (typeof WEEKDAYS)[number];

export interface WaitUntil {
  /** "HH:MM": wait for the next occurrence. */
  at?: string;
  /** Or only within this window: no wait when inside it already. */
  between?: { start: string; end: string };
  /** Allowed days; all when absent. */
  weekdays?: Weekday[];
}

import { instantOf, nextAllowedInstant } from '../../services/enrolment/quiet-hours';

const iso = (d: Date) => d.toISOString();

describe('quiet hours in the contact\'s time zone', () => {
  it('waits for the next 09:00 on an allowed weekday', () => {
    // Friday 2026-03-06 18:00 in Paris (17:00Z): next weekday 09:00 is Monday 08:00Z.
    const from = new Date('2026-03-06T17:00:00Z');
    expect(iso(nextAllowedInstant(from, { at: '09:00', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] }, 'Europe/Paris')))
      .toBe('2026-03-09T08:00:00.000Z');
    // Same moment, any day: Saturday 09:00 Paris.
    expect(iso(nextAllowedInstant(from, { at: '09:00' }, 'Europe/Paris'))).toBe('2026-03-07T08:00:00.000Z');
  });

  it('keeps local 09:00 across the spring-forward change (New York, 2026-03-08)', () => {
    // Saturday 2026-03-07 12:00 EST; Sunday 09:00 is EDT (UTC-4), not EST (UTC-5).
    const from = new Date('2026-03-07T17:00:00Z');
    expect(iso(nextAllowedInstant(from, { at: '09:00', weekdays: ['sun'] }, 'America/New_York'))).toBe('2026-03-08T13:00:00.000Z');
    // The day before it is 14:00Z: one hour apart in UTC, the same on the wall clock.
    expect(iso(nextAllowedInstant(new Date('2026-03-06T17:00:00Z'), { at: '09:00' }, 'America/New_York'))).toBe('2026-03-07T14:00:00.000Z');
  });

  it('keeps local 09:00 across the fall-back change (Paris, 2026-10-25)', () => {
    const from = new Date('2026-10-24T12:00:00Z');
    expect(iso(nextAllowedInstant(from, { at: '09:00' }, 'Europe/Paris'))).toBe('2026-10-25T08:00:00.000Z');
    expect(iso(nextAllowedInstant(new Date('2026-10-23T12:00:00Z'), { at: '09:00' }, 'Europe/Paris'))).toBe('2026-10-24T07:00:00.000Z');
  });

  it('moves a wall time inside the spring-forward gap to just after it, and takes the first of a repeated hour', () => {
    // 02:30 does not exist in New York on 2026-03-08: 03:30 EDT = 07:30Z.
    expect(new Date(instantOf(2026, 3, 8, 2, 30, 'America/New_York')).toISOString()).toBe('2026-03-08T07:30:00.000Z');
    // 01:30 happens twice on 2026-11-01: the first is EDT (05:30Z).
    expect(new Date(instantOf(2026, 11, 1, 1, 30, 'America/New_York')).toISOString()).toBe('2026-11-01T05:30:00.000Z');
  });

  it('does not wait inside a sending window; outside it waits for the next start', () => {
    const window = { between: { start: '09:00', end: '18:00' }, weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'] as const };
    const inside = new Date('2026-03-04T10:00:00Z'); // Wednesday 11:00 Paris
    expect(nextAllowedInstant(inside, { ...window, weekdays: [...window.weekdays] }, 'Europe/Paris')).toBe(inside);
    const night = new Date('2026-03-04T22:00:00Z'); // Wednesday 23:00 Paris
    expect(iso(nextAllowedInstant(night, { ...window, weekdays: [...window.weekdays] }, 'Europe/Paris'))).toBe('2026-03-05T08:00:00.000Z');
    // A window across midnight (22:00-06:00) contains 23:00.
    expect(nextAllowedInstant(night, { between: { start: '22:00', end: '06:00' } }, 'Europe/Paris')).toBe(night);
  });
});

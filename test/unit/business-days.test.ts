import { ProcessDefinitionSchema } from '../../journey-language';
import { addBusinessDays } from '../../services/processes/business-days';

const at = (iso: string) => new Date(iso);
const berlin = { timezone: 'Europe/Berlin' };

describe('business-day due dates', () => {
  it('skips the weekend and keeps the local time of day', () => {
    // Friday 2026-11-27 10:00 in Berlin (CET, UTC+1).
    expect(addBusinessDays(at('2026-11-27T09:00:00Z'), 1, berlin).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    expect(addBusinessDays(at('2026-11-27T09:00:00Z'), 3, berlin).toISOString()).toBe('2026-12-02T09:00:00.000Z');
    expect(addBusinessDays(at('2026-11-27T09:00:00Z'), 5, berlin).toISOString()).toBe('2026-12-04T09:00:00.000Z');
    // From a Saturday, the first business day is Monday.
    expect(addBusinessDays(at('2026-11-28T14:30:15.250Z'), 1, berlin).toISOString()).toBe('2026-11-30T14:30:15.250Z');
    // Tuesday + 1 is Wednesday: no weekend in between.
    expect(addBusinessDays(at('2026-11-24T09:00:00Z'), 1, berlin).toISOString()).toBe('2026-11-25T09:00:00.000Z');
  });

  it('counts days in the time zone, not in UTC', () => {
    // Friday 23:00 in New York is already Saturday in UTC: one business day is Monday 23:00 New York.
    expect(addBusinessDays(at('2026-11-28T04:00:00Z'), 1, { timezone: 'America/New_York' }).toISOString()).toBe('2026-12-01T04:00:00.000Z');
    // Counted in UTC the same instant (a Saturday) would land on Monday 04:00 UTC.
    expect(addBusinessDays(at('2026-11-28T04:00:00Z'), 1, { timezone: 'UTC' }).toISOString()).toBe('2026-11-30T04:00:00.000Z');
    // Monday 09:00 in Tokyo is Sunday in UTC.
    expect(addBusinessDays(at('2026-11-30T00:00:00Z'), 1, { timezone: 'Asia/Tokyo' }).toISOString()).toBe('2026-12-01T00:00:00.000Z');
  });

  it('keeps the wall-clock time across daylight saving changes', () => {
    // Berlin leaves summer time on Sunday 2026-10-25: Friday 10:00 CEST + 1 is Monday 10:00 CET, 73 hours later.
    const friday = at('2026-10-23T08:00:00Z');
    const monday = addBusinessDays(friday, 1, berlin);
    expect(monday.toISOString()).toBe('2026-10-26T09:00:00.000Z');
    expect((monday.getTime() - friday.getTime()) / 3_600_000).toBe(73);
    // Summer time starts Sunday 2026-03-29: Friday 10:00 CET + 1 is Monday 10:00 CEST, 71 hours later.
    expect(addBusinessDays(at('2026-03-27T09:00:00Z'), 1, berlin).toISOString()).toBe('2026-03-30T08:00:00.000Z');
    // 02:30 does not exist on 2026-03-29 in Berlin: it moves to 03:30 CEST, the first instant after the gap.
    const everyDay = { ...berlin, weekdays: ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const };
    expect(addBusinessDays(at('2026-03-28T01:30:00Z'), 1, { ...everyDay, weekdays: [...everyDay.weekdays] }).toISOString()).toBe('2026-03-29T01:30:00.000Z');
    // 02:30 happens twice on 2026-10-25: the first (CEST) is taken.
    expect(addBusinessDays(at('2026-10-24T00:30:00Z'), 1, { ...everyDay, weekdays: [...everyDay.weekdays] }).toISOString()).toBe('2026-10-25T00:30:00.000Z');
  });

  it('skips holidays and honours other working weeks', () => {
    // Thursday 2026-12-24 with Christmas and Boxing Day off: Friday 25 is a holiday, so Monday 28.
    const holidays = ['2026-12-25', '2026-12-28'];
    expect(addBusinessDays(at('2026-12-24T09:00:00Z'), 1, { ...berlin, holidays: ['2026-12-25'] }).toISOString()).toBe('2026-12-28T09:00:00.000Z');
    expect(addBusinessDays(at('2026-12-24T09:00:00Z'), 1, { ...berlin, holidays }).toISOString()).toBe('2026-12-29T09:00:00.000Z');
    // A holiday on a weekend changes nothing.
    expect(addBusinessDays(at('2026-11-27T09:00:00Z'), 1, { ...berlin, holidays: ['2026-11-28'] }).toISOString()).toBe('2026-11-30T09:00:00.000Z');
    // Sunday to Thursday in Dubai (UTC+4): Thursday 2026-11-26 09:00 + 1 is Sunday 2026-11-29 09:00.
    expect(addBusinessDays(at('2026-11-26T05:00:00Z'), 1, { timezone: 'Asia/Dubai', weekdays: ['sun', 'mon', 'tue', 'wed', 'thu'] }).toISOString())
      .toBe('2026-11-29T05:00:00.000Z');
    expect(() => addBusinessDays(at('2026-11-26T05:00:00Z'), 0, berlin)).toThrow(RangeError);
  });
});

describe('process task timing in definitions', () => {
  const problems = (task: Record<string, unknown>) => {
    const parsed = ProcessDefinitionSchema.safeParse({ sections: [{ title: 'S', tasks: [{ id: 't', kind: 'checklist', title: 'T', ...task }] }] });
    return parsed.success ? [] : parsed.error.issues.map((i) => `${i.path.slice(4).join('.')}: ${i.message}`);
  };

  it('takes business days, reminders and an escalation', () => {
    const parsed = ProcessDefinitionSchema.parse({ sections: [{ title: 'S', tasks: [{
      id: 't', kind: 'checklist', title: 'T', assignee: { role: 'ops' },
      due: { after: '3d', businessDays: { timezone: 'Europe/Berlin', holidays: ['2026-12-25'] } },
      remind: { every: '1d' }, escalate: { after: '1d', from: 'due', to: { user: 'lead@example.com' } },
    }] }] });
    const task = parsed.sections[0]!.tasks[0]!;
    expect(task.due).toEqual({ after: '3d', from: 'start', businessDays: { timezone: 'Europe/Berlin', weekdays: ['mon', 'tue', 'wed', 'thu', 'fri'], holidays: ['2026-12-25'] } });
    expect(task.remind).toEqual({ every: '1d', max: 3, from: 'opened' });
    expect(task.escalate).toEqual({ after: '1d', from: 'due', to: { user: 'lead@example.com' } });
  });

  it('names each bad field', () => {
    expect(problems({ assignee: { role: 'ops' }, due: { after: '36h', businessDays: { timezone: 'Mars/Olympus', weekdays: [], holidays: ['2026-02-30', 'soon'] } } })).toEqual(expect.arrayContaining([
      expect.stringMatching(/^due\.businessDays\.timezone: /),
      expect.stringMatching(/^due\.businessDays\.weekdays: /),
      expect.stringMatching(/^due\.businessDays\.holidays\.0: /),
      expect.stringMatching(/^due\.businessDays\.holidays\.1: /),
    ]));
    expect(problems({ assignee: { role: 'ops' }, due: { after: '36h', businessDays: { timezone: 'Europe/Berlin' } } }))
      .toEqual(['due.after: task "t": business days are whole days, 1d to 365d ("3d")']);
    expect(problems({ assignee: { role: 'ops' }, due: { after: '0d', businessDays: { timezone: 'UTC' } } })).toHaveLength(1);
    expect(problems({ assignee: { role: 'ops' }, remind: { every: '1d', from: 'due' }, escalate: { after: '1d', from: 'due', to: { role: 'x' } } })).toEqual([
      'remind.from: task "t": reminders from the due time need a `due`',
      'escalate.from: task "t": an escalation from the due time needs a `due`',
    ]);
    expect(problems({ remind: { every: '1d' } })).toEqual(['remind: task "t": anyone may act on a task without an assignee, so nobody is reminded: give it an assignee']);
    expect(problems({ assignee: { role: 'ops' }, remind: { every: 'often', max: 100 }, escalate: { after: '1d', to: { team: 'x' } } })).toEqual(expect.arrayContaining([
      expect.stringMatching(/^remind\.every: /), expect.stringMatching(/^remind\.max: /), expect.stringMatching(/^escalate\.to/),
    ]));
  });
});

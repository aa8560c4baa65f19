import { durationToMs, JourneyDefinitionSchema } from '../../journey-language';
import { draftProblems } from '../../services/journeys/journeys';

const email = (id: string, next?: string) => ({ id, type: 'send_email', subject: 'Hi', text: 'Hello', next });

describe('journey definitions', () => {
  it('accepts a valid journey and fills the defaults', () => {
    const parsed = JourneyDefinitionSchema.parse({ steps: [email('a', 'b'), { id: 'b', type: 'wait', duration: '2d' }] });
    expect(parsed.trigger).toEqual({ type: 'api' });
    expect(parsed.entry).toEqual({ reentry: 'once' });
  });

  it('names the step and field of each problem', () => {
    const problems = draftProblems({
      steps: [
        email('a', 'nowhere'),
        { id: 'a', type: 'wait', duration: '1s' },
        { id: 'c', type: 'teleport' },
      ],
    });
    expect(problems).toEqual(expect.arrayContaining([
      { path: 'definition.steps[0].next', stepId: 'a', message: 'step "a": next step "nowhere" does not exist' },
      expect.objectContaining({ path: 'definition.steps[2].type', stepId: 'c' }),
    ]));
  });

  it('refuses duplicate ids, unreachable steps and loops without a wait', () => {
    expect(draftProblems({ steps: [email('a'), email('a')] }).map((p) => p.message))
      .toContain('step "a": the id is used twice');
    expect(draftProblems({ steps: [email('a'), email('orphan')] }).map((p) => p.message))
      .toContain('step "orphan": unreachable from the first step "a"');
    const loop = draftProblems({ steps: [email('a', 'b'), email('b', 'a')] });
    expect(loop.map((p) => p.message)).toContain('step "a": the loop a → b → a has no wait in it');
    // The same loop through a wait is fine.
    expect(draftProblems({ steps: [email('a', 'w'), { id: 'w', type: 'wait', duration: '1d', next: 'a' }] })).toEqual([]);
  });

  it('refuses a loop whose only wait may not sleep, naming that wait', () => {
    const through = (wait: Record<string, unknown>) => draftProblems({ steps: [email('a', 'w'), { id: 'w', ...wait, next: 'a' }] });
    for (const duration of ['0s', '0ms', '0m']) {
      expect(through({ type: 'wait', duration })).toEqual([{
        path: 'definition.steps[1].duration', stepId: 'w',
        message: `step "w": a wait of ${duration} does not sleep, so the loop a → w → a can cycle without sleeping`,
      }]);
    }
    expect(through({ type: 'wait', until: { between: { start: '09:00', end: '17:00' } } })).toEqual([{
      path: 'definition.steps[1].until.between', stepId: 'w',
      message: 'step "w": a wait for a window does not sleep while the window is open, so the loop a → w → a can cycle without sleeping',
    }]);
    expect(through({ type: 'wait_for_event', event: 'x', timeout: '0s' }).map((p) => p.path)).toEqual(['definition.steps[1].timeout']);
    // Waits that always sleep break a loop; a 0s wait outside a loop, or beside one that sleeps, is fine.
    expect(through({ type: 'wait', duration: '1ms' })).toEqual([]);
    expect(through({ type: 'wait', until: { at: '09:00' } })).toEqual([]);
    expect(through({ type: 'wait_for_event', event: 'x', timeout: '1h' })).toEqual([]);
    expect(draftProblems({ steps: [{ id: 'w', type: 'wait', duration: '0s', next: 'a' }, email('a')] })).toEqual([]);
    expect(draftProblems({ steps: [email('a', 'w'), { id: 'w', type: 'wait', duration: '0s', next: 'z' }, { id: 'z', type: 'wait', duration: '1d', next: 'a' }] })).toEqual([]);
  });

  it('refuses templates that do not parse and durations that are not durations', () => {
    const problems = draftProblems({
      steps: [{ id: 'a', type: 'send_email', subject: '{% if %}', text: 'x', next: 'w' }, { id: 'w', type: 'wait', duration: '3 fortnights' }],
    });
    expect(problems.map((p) => p.path)).toEqual(['definition.steps[0].subject', 'definition.steps[1].duration']);
    expect(problems[0]!.message).toContain('Liquid');
  });

  it('reads durations', () => {
    expect(durationToMs('90s')).toBe(90_000);
    expect(durationToMs('1.5h')).toBe(5_400_000);
    expect(durationToMs('2d')).toBe(172_800_000);
    expect(durationToMs('1w')).toBe(604_800_000);
    expect(durationToMs('soon')).toBeUndefined();
  });
});

describe('journey definitions: triggers, waits, branches and splits', () => {
  it('accepts every trigger kind and step type', () => {
    const steps = [
      { id: 'w', type: 'wait_for_event', event: 'trial_started', timeout: '3d', next: 'b', onTimeout: 'b' },
      { id: 'b', type: 'branch', cases: [{ condition: { engagement: { step: 'm', action: 'opened' } }, next: 'q' }], default: 's' },
      { id: 's', type: 'split', variants: [{ id: 'a', weight: 1, next: 'q' }], holdout: { weight: 1 } },
      { id: 'q', type: 'wait', until: { at: '09:00', weekdays: ['mon'], timezone: 'Europe/Paris' }, next: 'm' },
      { id: 'm', type: 'send_email', subject: 'x', text: 'y', next: 'u' },
      { id: 'u', type: 'update_contact', addTags: ['x'], next: 'e' },
      { id: 'e', type: 'exit', reason: 'done' },
    ];
    for (const trigger of [
      { type: 'api' },
      { type: 'event', event: 'signed_up', condition: { field: 'event.properties.plan', op: 'eq', value: 'pro' } },
      { type: 'segment', condition: { tag: 'vip' } },
      { type: 'schedule', cron: '0 9 * * 1', timezone: 'Europe/Paris' },
    ]) {
      expect(draftProblems({ trigger, goal: { event: 'purchased' }, exits: [{ event: 'unsubscribed' }], steps })).toEqual([]);
    }
  });

  it('names the step of each problem in the newer step types', () => {
    const problems = draftProblems({
      trigger: { type: 'segment', condition: { field: 'event.properties.x', op: 'exists' } },
      steps: [
        { id: 'b', type: 'branch', cases: [{ condition: { engagement: { step: 'u', action: 'opened' } }, next: 'u' }, { condition: { field: 'event.name', op: 'eq', value: 'x' }, next: 'nowhere' }] },
        { id: 'u', type: 'update_contact', next: 'w' },
        { id: 'w', type: 'wait', until: { at: '25:00', timezone: 'Moon/Base' } },
      ],
    });
    const byPath = Object.fromEntries(problems.map((p) => [p.path, p.message]));
    expect(byPath['definition.trigger.condition']).toBe('only an event trigger has event.* and trigger.* fields');
    expect(byPath['definition.steps[0].cases[0].condition']).toContain('"u", which is not a send_email step');
    expect(byPath['definition.steps[0].cases[1].condition']).toContain('event.* fields are only available');
    expect(byPath['definition.steps[0].cases[1].next']).toContain('next step "nowhere" does not exist');
    expect(byPath['definition.steps[2].until.at']).toContain('HH:MM');
    expect(byPath['definition.steps[2].until.timezone']).toContain('IANA time zone');
  });
});

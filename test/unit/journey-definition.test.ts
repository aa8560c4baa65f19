import { JourneyDefinitionSchema } from '../../services/journey-definition';
import { draftProblems } from '../../services/journeys';
import { durationToMs } from '../../services/durations';

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

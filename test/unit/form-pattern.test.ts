import { MAX_TEXT_VALUE, patternProblem, validateValues, type FormField } from '../../journey-language';
import { draftProblems } from '../../services/journeys/journeys';

const field = (pattern: string, extra: Partial<FormField> = {}): FormField => ({ name: 'code', label: 'Code', type: 'text', required: true, pattern, ...extra });

describe('form field patterns', () => {
  it('accepts ordinary patterns, in JavaScript syntax too', () => {
    for (const p of ['^[A-Z]{2}-\\d{4}$', '^\\S+@\\S+$', '(?<year>\\d{4})-\\d{2}', '\\u0041+', '(?i)^yes|no$']) expect({ p, problem: patternProblem(p) }).toEqual({ p, problem: undefined });
  });

  it('refuses backreferences, lookarounds, bad syntax and oversized programs', () => {
    for (const p of ['(a)\\1', '(?=a)b', '(?!a)b', '(?<=a)b', '(?<!a)b', '[', '[a-z]{1,300}[0-9]{1,300}']) {
      expect({ p, problem: patternProblem(p) }).toEqual({ p, problem: expect.any(String) });
    }
  });

  it('names the field of a refused pattern at publish', () => {
    const problems = draftProblems({
      steps: [{
        id: 'review', type: 'approval', title: 'Review', assignee: { role: 'sales' },
        fields: [{ name: 'ok', label: 'OK', type: 'text', pattern: '^\\d+$' }, { name: 'evil', label: 'Evil', type: 'text', pattern: '^(a+)\\1$' }],
      }],
    });
    expect(problems).toEqual([expect.objectContaining({ path: 'definition.steps[0].fields[1].pattern', stepId: 'review' })]);
    expect(problems[0]!.message).toMatch(/safe regular expression/);
  });

  it('matches in linear time: a pattern that backtracks exponentially in JavaScript answers at once', () => {
    // (a+)+$ against "aaaa…b" takes exponential time with RegExp; RE2 has no backtracking.
    const started = Date.now();
    const problems = validateValues([field('^(a+)+$')], { code: `${'a'.repeat(5_000)}b` });
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(problems).toEqual([{ field: 'code', message: 'Code is not in the expected format' }]);
    expect(validateValues([field('^(a+)+$')], { code: 'aaaa' })).toEqual([]);
    // Contains a match, as RegExp.test does.
    expect(validateValues([field('\\d')], { code: 'abc1' })).toEqual([]);
  });

  it('refuses over-long text before matching, and a pattern RE2 cannot run matches nothing', () => {
    expect(validateValues([field('a')], { code: 'a'.repeat(MAX_TEXT_VALUE + 1) })[0]!.message).toMatch(/at most 10000 characters/);
    // A version published before patterns were checked may hold one: the value is refused, never run by a backtracking engine.
    expect(validateValues([field('(a)\\1')], { code: 'aa' })).toEqual([{ field: 'code', message: 'Code is not in the expected format' }]);
  });
});

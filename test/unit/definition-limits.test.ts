import { conditionDepth, ConditionSchema, MAX_CONDITION_DEPTH, MAX_DEFINITION_BYTES } from '../../journey-language';
import { draftProblems } from '../../services/journeys/journeys';

const leaf = { field: 'contact.score', op: 'gte', value: 1 };
/** all / any / not nested `levels` deep around one comparison. */
function nested(levels: number): unknown {
  let condition: unknown = leaf;
  for (let i = 0; i < levels; i++) condition = i % 3 === 0 ? { not: condition } : i % 3 === 1 ? { all: [condition, leaf] } : { any: [leaf, condition] };
  return condition;
}
const branchOn = (condition: unknown) => ({ steps: [{ id: 'b', type: 'branch', cases: [{ condition, next: 'w' }] }, { id: 'w', type: 'wait', duration: '1d' }] });

describe('condition depth and definition size', () => {
  it('counts all / any / not levels, and stops counting past the limit', () => {
    expect(conditionDepth(leaf)).toBe(0);
    expect(conditionDepth(nested(3))).toBe(3);
    expect(conditionDepth(nested(50))).toBe(MAX_CONDITION_DEPTH + 1);
  });

  it(`accepts ${MAX_CONDITION_DEPTH} levels and refuses one more, naming the condition`, () => {
    expect(ConditionSchema.safeParse(nested(MAX_CONDITION_DEPTH)).success).toBe(true);
    expect(draftProblems(branchOn(nested(MAX_CONDITION_DEPTH)))).toEqual([]);
    const problems = draftProblems(branchOn(nested(MAX_CONDITION_DEPTH + 1)));
    expect(problems).toEqual([{ path: 'definition.steps[0].cases[0].condition', stepId: 'b', message: 'step "b": conditions nest at most 10 deep (all, any, not)' }]);
  });

  it('refuses hostile nesting at once, without exhausting the stack', () => {
    let condition: unknown = leaf;
    for (let i = 0; i < 100_000; i++) condition = { not: condition };
    const started = Date.now();
    const parsed = ConditionSchema.safeParse(condition);
    expect(parsed.success).toBe(false);
    expect(Date.now() - started).toBeLessThan(1_000);
  });

  it('caps the values of an in-list', () => {
    const ok = ConditionSchema.safeParse({ field: 'contact.lifecycleStage', op: 'in', value: Array.from({ length: 1_000 }, (_, i) => `s${i}`) });
    expect(ok.success).toBe(true);
    const tooMany = ConditionSchema.safeParse({ field: 'contact.lifecycleStage', op: 'in', value: Array.from({ length: 1_001 }, (_, i) => `s${i}`) });
    expect(tooMany.error?.issues[0]).toMatchObject({ path: ['value'], message: 'a list has at most 1000 values' });
  });

  it(`refuses a definition over ${MAX_DEFINITION_BYTES / 1024} KiB, naming the definition`, () => {
    const big = { steps: [{ id: 'n', type: 'notify', url: 'https://hooks.example.com/x', body: { blob: 'x'.repeat(MAX_DEFINITION_BYTES) } }] };
    expect(draftProblems(big)).toContainEqual({ path: 'definition', message: expect.stringMatching(/at most 256 KiB/) });
  });
});

import { RE2JS } from 're2js';

/**
 * A form field's `pattern` runs against values strangers type, so it is compiled and matched by
 * RE2 (re2js, pure JavaScript): matching takes time linear in the value, whatever the pattern.
 * RE2 has no backreferences and no lookarounds, the constructs that make a backtracking engine
 * take exponential time; a pattern using them is refused at publish. JavaScript syntax
 * (`\u0041`, `(?<name>…)`) is translated first. Pure and deterministic: the workflow's update
 * validator runs it too (re2js bundles for the workflow sandbox; it has no I/O and no globals).
 */

/** Compiled programs past this many instructions are refused (`[a-z]{1,200}` is about 400). */
export const MAX_PATTERN_PROGRAM = 500;

/** Text values longer than this are refused before any pattern runs (keeps matching bounded). */
export const MAX_TEXT_VALUE = 10_000;

const compiled = new Map<string, RE2JS | string>();

/** The compiled pattern, or why RE2 refuses it (memoised: a form's patterns repeat). */
function compile(pattern: string): RE2JS | string {
  let entry = compiled.get(pattern);
  if (entry === undefined) {
    try {
      const re = RE2JS.compile(RE2JS.translateRegExp(pattern));
      entry = re.programSize() > MAX_PATTERN_PROGRAM ? `is too large (over ${MAX_PATTERN_PROGRAM} instructions once compiled)` : re;
    } catch (err) {
      entry = `is not a safe regular expression (RE2 syntax: no backreferences or lookarounds): ${(err as Error).message}`;
    }
    if (compiled.size >= 1_000) compiled.clear();
    compiled.set(pattern, entry);
  }
  return entry;
}

/** Why a pattern cannot be used (publishing refuses it), or undefined when it is safe. */
export function patternProblem(pattern: string): string | undefined {
  const entry = compile(pattern);
  return typeof entry === 'string' ? entry : undefined;
}

/**
 * Whether the value contains a match (as `RegExp.prototype.test` would say). A pattern RE2
 * refuses (only in a version published before patterns were checked) matches nothing, so the
 * value is refused rather than matched by an engine that could hang.
 */
export function matchesPattern(pattern: string, value: string): boolean {
  const entry = compile(pattern);
  return typeof entry !== 'string' && entry.matcher(value).find();
}

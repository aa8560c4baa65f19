/** Journey durations are written "90s", "15m", "2h", "3d" or "1w" (and "500ms"). */
export const DURATION_PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

const UNIT_MS: Record<string, number> = {
  ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000,
};

/** Milliseconds in a duration string; undefined when it is not one. */
export function durationToMs(duration: string): number | undefined {
  const match = DURATION_PATTERN.exec(duration.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * UNIT_MS[unit!]!);
}

/** Milliseconds in a duration the definition schema accepted (throws on anything else). */
export function msOf(duration: string): number {
  const ms = durationToMs(duration);
  if (ms === undefined) throw new TypeError(`not a duration: "${duration}"`);
  return ms;
}

/**
 * The statistics of journey results: a conversion rate's interval, and the interval of the
 * difference between two rates (a variant's lift over its control).
 */

const round = (x: number) => Math.round(x * 10_000) / 10_000;

/** The 95% Wilson score interval for k successes out of n, unrounded. */
function wilsonBounds(k: number, n: number, z: number): [number, number] {
  if (n === 0) return [0, 0];
  const p = k / n;
  const centre = (p + (z * z) / (2 * n)) / (1 + (z * z) / n);
  const margin = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / (1 + (z * z) / n);
  return [Math.max(0, centre - margin), Math.min(1, centre + margin)];
}

/** 95% Wilson score interval for k successes out of n. */
export function wilson(k: number, n: number, z = 1.96): [number, number] {
  const [lo, hi] = wilsonBounds(k, n, z);
  return [round(lo), round(hi)];
}

/** A variant's lift over its control: the difference of conversion rates, with its interval. */
export interface Lift {
  /** Rate of the variant minus rate of the control (percentage points as a fraction). */
  difference: number;
  /** 95% interval of the difference: Newcombe's hybrid score interval (method 10, 1998). */
  confidenceInterval: [number, number];
  /** The difference relative to the control's rate (0.5 = 50% better); null when the control's rate is 0. */
  relative: number | null;
}

/**
 * The lift of `k1` of `n1` over `k2` of `n2`, with Newcombe's hybrid score interval for a
 * difference of independent proportions: it combines the two Wilson intervals, stays inside
 * [-1, 1] and behaves at rates near 0 or 1 and with small groups, where the textbook Wald
 * interval does not (Newcombe, Statistics in Medicine 17:873-890, 1998). Null without enrolments on either side.
 */
export function lift(k1: number, n1: number, k2: number, n2: number, z = 1.96): Lift | null {
  if (n1 === 0 || n2 === 0) return null;
  const p1 = k1 / n1;
  const p2 = k2 / n2;
  const [l1, u1] = wilsonBounds(k1, n1, z);
  const [l2, u2] = wilsonBounds(k2, n2, z);
  const d = p1 - p2;
  const lower = d - Math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2);
  const upper = d + Math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2);
  return { difference: round(d), confidenceInterval: [round(lower), round(upper)], relative: p2 === 0 ? null : round(d / p2) };
}

/** A share rounded to four places; 0 of 0 is 0. */
export function rate(k: number, n: number): number {
  return n === 0 ? 0 : round(k / n);
}

/**
 * Deterministic A/B assignment: the same contact in the same journey always lands in the same
 * bucket, and buckets fill in proportion to their weights. Pure (FNV-1a), so the workflow runs it.
 */
export function bucketOf(seed: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) {
    hash ^= seed.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  // Mix the bits once more so near-identical seeds spread evenly.
  hash ^= hash >>> 16;
  hash = Math.imul(hash, 0x85ebca6b) >>> 0;
  hash ^= hash >>> 13;
  return (hash >>> 0) / 0x1_0000_0000;
}

export interface Weighted {
  id: string;
  weight: number;
}

/** The option picked for `seed` among weighted options (holdout included as one of them). */
export function assign<T extends Weighted>(seed: string, options: T[]): T {
  const total = options.reduce((sum, o) => sum + o.weight, 0);
  let point = bucketOf(seed) * total;
  for (const option of options) {
    if (point < option.weight) return option;
    point -= option.weight;
  }
  return options[options.length - 1]!;
}

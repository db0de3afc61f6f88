// Order statistics for a handful of samples: medians for the verdicts, p90 and min/max for the spread
// (other suites share these 2 cores, so the spread says how much to trust a median).
export interface Summary {
  readonly n: number;
  readonly median: number;
  readonly p90: number;
  readonly min: number;
  readonly max: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? Number.NaN;
  const b = sorted[hi] ?? Number.NaN;
  return a + (b - a) * (pos - lo);
}

export function summarize(samples: readonly number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  return {
    n: sorted.length,
    median: quantile(sorted, 0.5),
    p90: quantile(sorted, 0.9),
    min: sorted[0] ?? Number.NaN,
    max: sorted[sorted.length - 1] ?? Number.NaN,
  };
}

/**
 * Median of per-round ratios a[i] / b[i]. Interleaved samples of the same round ran under the same
 * load, so this ratio shrugs off a burst that slowed one whole round; shown next to the ratio of medians.
 */
export function pairedRatio(a: readonly number[], b: readonly number[]): number {
  const ratios = a.flatMap((x, i) => (b[i] === undefined ? [] : [x / b[i]]));
  return summarize(ratios).median;
}

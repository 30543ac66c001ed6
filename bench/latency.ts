/** Pure helpers of the fixed-rate load generator (bench/fixed-rate.ts). */

/** Nearest-rank percentile of ascending-sorted samples; `p` in (0, 100]. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) throw new Error("percentile: no samples");
  if (!(p > 0 && p <= 100)) throw new Error(`percentile: p must be in (0, 100], got ${p}`);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, rank) - 1] as number;
}

/** How many requests a constant-rate schedule has made due `elapsedMs` after its start. */
export function dueCount(elapsedMs: number, ratePerSecond: number): number {
  return Math.floor((elapsedMs * ratePerSecond) / 1000) + 1;
}

/** When the i-th request (from 0) of a constant-rate schedule is due, in ms after the start. */
export function dueAtMs(i: number, ratePerSecond: number): number {
  return (i * 1000) / ratePerSecond;
}

/**
 * Which of `owners` (taking turns, from 0, for `sliceMs` each) owns the moment `atMs` after the
 * start of a schedule.
 */
export function sliceOwner(atMs: number, sliceMs: number, owners: number): number {
  return Math.floor(atMs / sliceMs) % owners;
}

export interface LatencySummary {
  count: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export function summarizeLatencies(samples: Float64Array): LatencySummary {
  const sorted = Float64Array.from(samples).sort();
  let sum = 0;
  for (const s of sorted) sum += s;
  return {
    count: sorted.length,
    mean: sum / sorted.length,
    p50: percentile(sorted, 50),
    p90: percentile(sorted, 90),
    p99: percentile(sorted, 99),
    p999: percentile(sorted, 99.9),
    max: sorted[sorted.length - 1] as number,
  };
}

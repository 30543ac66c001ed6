import type { HoldoutMetrics, ModelArtifact } from "../artifact.ts";
import { quantileSorted } from "../drift.ts";

export type Interval = ModelArtifact["interval"];

/**
 * Ranks 1..n with ties given their average rank. Sorting a typed copy natively and locating each
 * value's tie group by binary search is much faster than sorting an index array with a comparator.
 */
export function averageRanks(values: Float64Array): Float64Array {
  const sorted = values.slice().sort();
  const ranks = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    let lo = 0;
    let hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    const first = lo;
    hi = sorted.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((sorted[mid] as number) <= v) lo = mid + 1;
      else hi = mid;
    }
    const last = lo - 1;
    ranks[i] = (first + last) / 2 + 1;
  }
  return ranks;
}

/** Pearson correlation; 0 when either side is constant (no linear information). */
export function pearson(a: Float64Array, b: Float64Array): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i] as number;
    mb += b[i] as number;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - ma;
    const db = (b[i] as number) - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? 0 : sab / Math.sqrt(saa * sbb);
}

/** Spearman rank correlation: the information coefficient. */
export function spearman(a: Float64Array, b: Float64Array): number {
  return pearson(averageRanks(a), averageRanks(b));
}

/** Interval [y + lower, y + upper] from the (1-level)/2 and (1+level)/2 quantiles of residuals y - ŷ. */
export function residualInterval(predicted: Float64Array, actual: Float64Array, level: number): Interval {
  const residuals = new Float64Array(actual.length);
  for (let i = 0; i < actual.length; i++) residuals[i] = (actual[i] as number) - (predicted[i] as number);
  residuals.sort();
  return {
    level,
    lower: quantileSorted(residuals, (1 - level) / 2),
    upper: quantileSorted(residuals, (1 + level) / 2),
  };
}

export function coverage(predicted: Float64Array, actual: Float64Array, interval: Interval): number {
  let inside = 0;
  for (let i = 0; i < actual.length; i++) {
    const p = predicted[i] as number;
    const y = actual[i] as number;
    if (y >= p + interval.lower && y <= p + interval.upper) inside++;
  }
  return inside / actual.length;
}

/**
 * Out-of-sample coverage of the residual-quantile method: the interval is fitted on the first half
 * of the rows and counted on the second half. (Counting it on the rows it was fitted on would
 * report the nominal level by construction.)
 */
export function splitHalfCoverage(predicted: Float64Array, actual: Float64Array, level: number): number {
  const half = Math.floor(actual.length / 2);
  const interval = residualInterval(predicted.subarray(0, half), actual.subarray(0, half), level);
  return coverage(predicted.subarray(half), actual.subarray(half), interval);
}

/**
 * R² (1 - SSE/SST around the holdout mean; 0 when the target is constant), RMSE, MAE, directional
 * accuracy (share of rows where sign(ŷ) = sign(y)), Spearman IC, and the given interval coverage.
 */
export function holdoutMetrics(
  predicted: Float64Array,
  actual: Float64Array,
  intervalCoverage: number,
): HoldoutMetrics {
  const n = actual.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += actual[i] as number;
  mean /= n;
  let sse = 0;
  let sst = 0;
  let sae = 0;
  let hits = 0;
  for (let i = 0; i < n; i++) {
    const y = actual[i] as number;
    const e = y - (predicted[i] as number);
    sse += e * e;
    sst += (y - mean) * (y - mean);
    sae += Math.abs(e);
    if (Math.sign(y) === Math.sign(predicted[i] as number)) hits++;
  }
  return {
    samples: n,
    r2: sst === 0 ? 0 : 1 - sse / sst,
    rmse: Math.sqrt(sse / n),
    mae: sae / n,
    directionalAccuracy: hits / n,
    informationCoefficient: spearman(predicted, actual),
    intervalCoverage,
  };
}

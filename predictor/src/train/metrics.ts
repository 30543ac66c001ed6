import type { HoldoutMetrics, ModelArtifact } from "../artifact.ts";
import { quantileSorted } from "../drift.ts";

export type Interval = ModelArtifact["interval"];

/** Below this length a partition is finished by insertion sort. */
const INSERTION_SORT_BELOW = 16;

/**
 * Indices of the (finite) values in ascending order of value: quicksort with a median-of-three
 * pivot on a typed index array, the values read directly. Array.prototype.sort with a comparator
 * calls a function per comparison, and ranking by binary search into a sorted copy misses cache
 * on every probe; this is several times faster than either on the 200k-row holdout of 1M bars.
 */
export function argsort(values: Float64Array): Uint32Array {
  const order = new Uint32Array(values.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  const at = (k: number) => values[order[k] as number] as number;
  const stack = [0, order.length - 1];
  while (stack.length > 0) {
    const hi = stack.pop() as number;
    const lo = stack.pop() as number;
    if (hi - lo < INSERTION_SORT_BELOW) {
      for (let i = lo + 1; i <= hi; i++) {
        const index = order[i] as number;
        const v = values[index] as number;
        let j = i - 1;
        while (j >= lo && at(j) > v) {
          order[j + 1] = order[j] as number;
          j--;
        }
        order[j + 1] = index;
      }
      continue;
    }
    const a = at(lo);
    const b = at((lo + hi) >>> 1);
    const c = at(hi);
    const pivot = Math.max(Math.min(a, b), Math.min(Math.max(a, b), c));
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (at(i) < pivot) i++;
      while (at(j) > pivot) j--;
      if (i <= j) {
        const swap = order[i] as number;
        order[i] = order[j] as number;
        order[j] = swap;
        i++;
        j--;
      }
    }
    // The larger part goes on the stack first, so the stack stays O(log n) deep.
    if (j - lo > hi - i) stack.push(lo, j, i, hi);
    else stack.push(i, hi, lo, j);
  }
  return order;
}

/** Ranks 1..n with ties given their average rank. */
export function averageRanks(values: Float64Array): Float64Array {
  const order = argsort(values);
  const ranks = new Float64Array(values.length);
  for (let first = 0; first < order.length; ) {
    const v = values[order[first] as number] as number;
    let last = first;
    while (last + 1 < order.length && values[order[last + 1] as number] === v) last++;
    const rank = (first + last) / 2 + 1;
    for (let k = first; k <= last; k++) ranks[order[k] as number] = rank;
    first = last + 1;
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

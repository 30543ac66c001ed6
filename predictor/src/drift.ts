import type { ReferenceDistribution } from "./artifact.ts";

export type { ReferenceDistribution };

/**
 * Empty bins get this share instead of 0 when computing PSI: ln(q/p) is infinite at 0, and a
 * short serving window often leaves a decile empty. 1e-4 caps one empty bin's contribution at
 * about 0.1 * ln(0.1/1e-4) ≈ 0.69, which still reads as strong drift (PSI > 0.25).
 */
export const PSI_EPSILON = 1e-4;

/** Linear-interpolation quantile (numpy's default) of an ascending array. */
export function quantileSorted(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError("quantile of an empty sample");
  const pos = (n - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.min(lo + 1, n - 1);
  const a = sorted[lo] as number;
  return a + ((sorted[hi] as number) - a) * (pos - lo);
}

/**
 * Bin of `v` given ascending inner edges: bin i holds edges[i-1] <= v < edges[i], so there are
 * edges.length + 1 bins. `v` must be finite.
 */
export function binIndex(edges: ArrayLike<number>, v: number): number {
  let lo = 0;
  let hi = edges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((edges[mid] as number) <= v) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Decile edges are taken from at most this many values (every k-th), to bound the sort. */
export const EDGE_SAMPLE = 100_000;

/**
 * Decile edges of the finite values and the share of all values in each of the 10 bins, counted
 * with `binIndex` so that ties at an edge (discrete features) land where serving puts them. Above
 * EDGE_SAMPLE values the edges come from an evenly spaced sample: sorting a million values per
 * feature would dominate training time, and a 100k sample puts each edge within about 0.001 of
 * its decile, far below what PSI can notice. The shares are exact counts either way.
 */
export function referenceDistribution(values: ArrayLike<number>): ReferenceDistribution {
  const finite = new Float64Array(values.length);
  let n = 0;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    if (Number.isFinite(v)) finite[n++] = v;
  }
  if (n === 0) throw new RangeError("reference distribution of no finite values");
  const stride = Math.ceil(n / EDGE_SAMPLE);
  const sample = new Float64Array(Math.ceil(n / stride));
  for (let i = 0, j = 0; i < n; i += stride) sample[j++] = finite[i] as number;
  sample.sort();
  const edges = new Float64Array(9);
  for (let d = 1; d < 10; d++) edges[d - 1] = quantileSorted(sample, d / 10);
  const counts = countDeciles(edges, finite.subarray(0, n));
  return { edges: Array.from(edges), proportions: Array.from(counts, (c) => c / n) };
}

/**
 * Bin counts by binIndex's rule (bin = number of edges <= v), for exactly 9 edges. Summing the
 * nine comparisons has no data-dependent branch; on a million values it is several times faster
 * than a binary search, whose branches mispredict on every value.
 */
function countDeciles(edges: Float64Array, values: Float64Array): Float64Array {
  const [e0, e1, e2, e3, e4, e5, e6, e7, e8] = edges as unknown as [
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const counts = new Float64Array(10);
  for (let i = 0; i < values.length; i++) {
    const v = values[i] as number;
    const bin =
      +(v >= e0) +
      +(v >= e1) +
      +(v >= e2) +
      +(v >= e3) +
      +(v >= e4) +
      +(v >= e5) +
      +(v >= e6) +
      +(v >= e7) +
      +(v >= e8);
    counts[bin] = (counts[bin] as number) + 1;
  }
  return counts;
}

/** The number of observations in `counts`, which must have a count per reference bin. */
function countTotal(statistic: string, reference: ReferenceDistribution, counts: ArrayLike<number>): number {
  if (counts.length !== reference.proportions.length) {
    throw new RangeError(
      `${statistic}: ${counts.length} counts for ${reference.proportions.length} reference bins`,
    );
  }
  let total = 0;
  for (let i = 0; i < counts.length; i++) total += counts[i] as number;
  return total;
}

/**
 * Population stability index of observed bin counts against the reference shares:
 * sum (q - p) * ln(q / p), with both shares floored at PSI_EPSILON. 0 when nothing was observed.
 */
export function psi(reference: ReferenceDistribution, counts: ArrayLike<number>): number {
  const total = countTotal("psi", reference, counts);
  if (total === 0) return 0;
  let sum = 0;
  for (let i = 0; i < counts.length; i++) {
    const p = Math.max(reference.proportions[i] as number, PSI_EPSILON);
    const q = Math.max((counts[i] as number) / total, PSI_EPSILON);
    sum += (q - p) * Math.log(q / p);
  }
  return sum;
}

/**
 * Kolmogorov-Smirnov statistic of observed bin counts against the reference shares, read at the
 * reference's edges: the largest gap between the two cumulative shares below an edge. Serving
 * keeps only bin counts, so this is the KS statistic of the binned samples, a lower bound of the
 * exact one that misses at most the gap inside a decile. 0 when nothing was observed.
 */
export function ksAtEdges(reference: ReferenceDistribution, counts: ArrayLike<number>): number {
  const total = countTotal("ks", reference, counts);
  if (total === 0) return 0;
  let observed = 0;
  let expected = 0;
  let ks = 0;
  for (let i = 0; i < counts.length - 1; i++) {
    observed += (counts[i] as number) / total;
    expected += reference.proportions[i] as number;
    ks = Math.max(ks, Math.abs(observed - expected));
  }
  return ks;
}

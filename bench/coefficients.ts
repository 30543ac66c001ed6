/** Comparing the project's fitted models and predictions with scikit-learn's. */

/** A fit on raw (unstandardized) features, as scikit-learn reports it. */
export interface RawFit {
  intercept: number;
  coef: number[];
}

/** |a - b| / max(|a|, |b|), 0 when both are 0. */
export function relativeDifference(a: number, b: number): number {
  const scale = Math.max(Math.abs(a), Math.abs(b));
  return scale === 0 ? 0 : Math.abs(a - b) / scale;
}

/** The largest relative difference over the intercept and every coefficient. */
export function maxRelativeDifference(a: RawFit, b: RawFit): number {
  if (a.coef.length !== b.coef.length) {
    throw new Error(`fits have ${a.coef.length} and ${b.coef.length} coefficients`);
  }
  return a.coef.reduce(
    (worst, c, i) => Math.max(worst, relativeDifference(c, b.coef[i] as number)),
    relativeDifference(a.intercept, b.intercept),
  );
}

/** Middle value (mean of the two middle ones for an even count). */
export function median(xs: readonly number[]): number {
  if (xs.length === 0) throw new Error("median: no values");
  const sorted = [...xs].sort((p, q) => p - q);
  const mid = sorted.length >> 1;
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}

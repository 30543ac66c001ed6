import type { ModelArtifact } from "../artifact.ts";
import { normalCdf } from "../normal.ts";

export { normalCdf };

/** normalCdf on a grid of z from -Z_MAX to Z_MAX, STEPS_PER_UNIT points a unit. */
const Z_MAX = 8;
const STEPS_PER_UNIT = 128;
const CDF_TABLE = Float64Array.from({ length: 2 * Z_MAX * STEPS_PER_UNIT + 1 }, (_, i) =>
  normalCdf(i / STEPS_PER_UNIT - Z_MAX),
);

/**
 * normalCdf by linear interpolation in a table (within 2e-6 of it): confidence is computed for
 * every predicted row, and the table costs a multiply and two reads where normalCdf costs an exp,
 * which measured as half of what monitoring added to a 1,000-row batch.
 */
export function tableNormalCdf(z: number): number {
  const x = (z + Z_MAX) * STEPS_PER_UNIT;
  if (!(x > 0)) return z > 0 ? 1 : 0;
  if (x >= CDF_TABLE.length - 1) return 1;
  const i = x | 0;
  const lo = CDF_TABLE[i] as number;
  return lo + ((CDF_TABLE[i + 1] as number) - lo) * (x - i);
}

/** The z with normalCdf(z) = p, for p in (0.5, 1), by bisection: computed once per model. */
export function normalQuantile(p: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (normalCdf(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The prediction confidence: the probability that the realized return has the sign the model
 * predicted, under a normal residual distribution fitted to the artifact's holdout residual
 * interval. An interval [lower, upper] at nominal level L gives the residual mean
 * mu = (lower + upper) / 2 and spread sigma = (upper - lower) / (2 z), z the (1 + L) / 2 quantile
 * of the standard normal; a prediction y then has confidence Phi((y + mu) / sigma) when y >= 0
 * and Phi(-(y + mu) / sigma) when y < 0. It is 0.5 for a prediction lost in its noise and nears 1
 * only when |y| is several residual spreads: a weak-signal return model sits near 0.5-0.6.
 */
export function signConfidence(interval: ModelArtifact["interval"]): (prediction: number) => number {
  const mu = (interval.lower + interval.upper) / 2;
  const sigma = (interval.upper - interval.lower) / (2 * normalQuantile((1 + interval.level) / 2));
  if (!(sigma > 0)) return () => 0.5;
  return (y) => tableNormalCdf(((y >= 0 ? 1 : -1) * (y + mu)) / sigma);
}

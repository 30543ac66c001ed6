/**
 * Whether two strategies' mean returns over the same bars differ, allowing for autocorrelation.
 * Bar returns of trading strategies are serially correlated (positions persist, volatility
 * clusters), and a test that treats bars as independent counts each one as new evidence: it
 * understates the standard error and finds differences that are not there.
 *
 * The test is on the per-bar difference d[t] = a[t] - b[t]: its mean over the standard error from
 * the Newey-West long-run variance (Bartlett kernel), with the bandwidth chosen from the data by
 * Andrews' (1991) AR(1) plug-in rule, and a two-sided p-value from the normal distribution.
 * Deterministic: no resampling, so the gate gives the same verdict on the same rows every time.
 */

export interface MeanComparison {
  /** Mean of a - b per bar. */
  meanDifference: number;
  /** Newey-West standard error of that mean. */
  standardError: number;
  /** Two-sided p-value of "no difference". */
  pValue: number;
  /** Independent bars worth the same information: n * variance / long-run variance (above n when the difference is negatively autocorrelated). */
  effectiveSamples: number;
  samples: number;
  /** Bandwidth of the Bartlett kernel: autocovariances up to lag < bandwidth are weighted in. */
  bandwidth: number;
}

/** Coefficients of the Numerical Recipes Chebyshev fit of erfc (relative error < 1.2e-7). */
const ERFC_FIT = [
  -1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
  -0.82215223, 0.17087277,
];

/** Standard normal CDF. */
export function normalCdf(x: number): number {
  const z = Math.abs(x) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * z);
  let poly = 0;
  for (let i = ERFC_FIT.length - 1; i >= 0; i--) poly = (ERFC_FIT[i] as number) + t * poly;
  const erfc = t * Math.exp(-z * z + poly);
  return x >= 0 ? 1 - erfc / 2 : erfc / 2;
}

/** Largest lag-1 autocorrelation the plug-in bandwidth takes, so a near-unit root cannot blow it up. */
const MAX_RHO = 0.97;

function autocovariance(d: Float64Array, mean: number, lag: number): number {
  let sum = 0;
  for (let t = lag; t < d.length; t++) sum += ((d[t] as number) - mean) * ((d[t - lag] as number) - mean);
  return sum / d.length;
}

/** Andrews' AR(1) plug-in bandwidth for the Bartlett kernel: 1.1447 * (alpha * n)^(1/3). */
export function bartlettBandwidth(rho: number, n: number): number {
  const r = Math.max(-MAX_RHO, Math.min(MAX_RHO, rho));
  const alpha = (4 * r * r) / ((1 - r) ** 2 * (1 + r) ** 2);
  return Math.max(1, 1.1447 * Math.cbrt(alpha * n));
}

export function compareMeans(a: Float64Array, b: Float64Array): MeanComparison {
  if (a.length !== b.length) throw new Error(`compareMeans: ${a.length} bars against ${b.length}`);
  const n = a.length;
  const d = new Float64Array(n);
  let mean = 0;
  for (let t = 0; t < n; t++) {
    d[t] = (a[t] as number) - (b[t] as number);
    mean += d[t] as number;
  }
  mean /= n;
  const variance = autocovariance(d, mean, 0);
  if (n < 2 || variance === 0) {
    return {
      meanDifference: mean,
      standardError: 0,
      pValue: mean === 0 ? 1 : 0,
      effectiveSamples: n,
      samples: n,
      bandwidth: 1,
    };
  }
  // Prewhitened (Andrews and Monahan 1992): an AR(1) filter takes out most of the autocorrelation,
  // the kernel estimate handles the rest, and recolouring by 1 / (1 - rho)² restores the scale. The
  // kernel alone under-weights strong persistence and rejects too often in samples of this size.
  const rho = Math.max(-MAX_RHO, Math.min(MAX_RHO, autocovariance(d, mean, 1) / variance));
  const e = new Float64Array(n - 1);
  let eMean = 0;
  for (let t = 1; t < n; t++) {
    e[t - 1] = (d[t] as number) - mean - rho * ((d[t - 1] as number) - mean);
    eMean += e[t - 1] as number;
  }
  eMean /= n - 1;
  const eVariance = autocovariance(e, eMean, 0);
  const bandwidth = bartlettBandwidth(autocovariance(e, eMean, 1) / eVariance, n - 1);
  let whiteLongRun = eVariance;
  for (let lag = 1; lag < bandwidth && lag < n - 1; lag++) {
    whiteLongRun += 2 * (1 - lag / bandwidth) * autocovariance(e, eMean, lag);
  }
  // The Bartlett weights keep the estimate non-negative in theory; rounding is kept from crossing 0.
  const longRun = Math.max(whiteLongRun / (1 - rho) ** 2, variance / n);
  const standardError = Math.sqrt(longRun / n);
  return {
    meanDifference: mean,
    standardError,
    pValue: 2 * (1 - normalCdf(Math.abs(mean / standardError))),
    effectiveSamples: (n * variance) / longRun,
    samples: n,
    bandwidth,
  };
}

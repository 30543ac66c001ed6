import { describe, expect, it } from "vitest";
import { seededNormals } from "../data/synthetic.ts";
import { compareMeans, normalCdf } from "./compare.ts";

/** Two AR(1) series with the same zero mean: no true difference, strong serial correlation. */
function twoModels(seed: number, n: number, rho: number) {
  const normal = seededNormals(seed);
  const a = new Float64Array(n);
  const b = new Float64Array(n);
  let x = 0;
  let y = 0;
  for (let t = 0; t < n; t++) {
    x = rho * x + normal();
    y = rho * y + normal();
    a[t] = x;
    b[t] = y;
  }
  return { a, b };
}

/** Welch's independent-samples t-test (normal approximation), the test the correction replaces. */
function independentSamplesP(a: Float64Array, b: Float64Array): number {
  const moments = (x: Float64Array) => {
    const mean = x.reduce((s, v) => s + v, 0) / x.length;
    const variance = x.reduce((s, v) => s + (v - mean) ** 2, 0) / (x.length - 1);
    return { mean, variance };
  };
  const ma = moments(a);
  const mb = moments(b);
  const z = (ma.mean - mb.mean) / Math.sqrt(ma.variance / a.length + mb.variance / b.length);
  return 2 * (1 - normalCdf(Math.abs(z)));
}

describe("normalCdf", () => {
  it("matches the standard normal's known quantiles", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1.959964)).toBeCloseTo(0.975, 6);
    expect(normalCdf(-2.575829)).toBeCloseTo(0.005, 6);
  });
});

describe("compareMeans", () => {
  it("keeps its false-positive rate at 95% confidence near 5% on autocorrelated returns where an independent-samples t-test does not", () => {
    const trials = 1000;
    let corrected = 0;
    let naive = 0;
    for (let seed = 1; seed <= trials; seed++) {
      const { a, b } = twoModels(seed, 1000, 0.5);
      if (compareMeans(a, b).pValue < 0.05) corrected++;
      if (independentSamplesP(a, b) < 0.05) naive++;
    }
    expect(corrected / trials).toBeGreaterThanOrEqual(0.03);
    expect(corrected / trials).toBeLessThanOrEqual(0.07);
    expect(naive / trials).toBeGreaterThan(0.07);
  });

  it("reports fewer effective samples than bars when the difference is persistent", () => {
    const { a, b } = twoModels(1, 5000, 0.5);
    const result = compareMeans(a, b);
    // AR(1) with rho 0.5: n * (1 - rho) / (1 + rho) = n / 3.
    expect(result.effectiveSamples / result.samples).toBeGreaterThan(0.25);
    expect(result.effectiveSamples / result.samples).toBeLessThan(0.45);
    expect(result.samples).toBe(5000);
  });

  it("finds a real difference in mean return", () => {
    const { a, b } = twoModels(2, 5000, 0.3);
    const better = a.map((v) => v + 0.2);
    const result = compareMeans(better, b);
    expect(result.meanDifference).toBeGreaterThan(0);
    expect(result.pValue).toBeLessThan(0.01);
  });

  it("says no difference for identical series", () => {
    const { a } = twoModels(3, 100, 0.5);
    expect(compareMeans(a, a)).toMatchObject({ meanDifference: 0, pValue: 1 });
  });
});

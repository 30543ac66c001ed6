import { describe, expect, it } from "vitest";
import {
  averageRanks,
  coverage,
  holdoutMetrics,
  pearson,
  residualInterval,
  spearman,
  splitHalfCoverage,
} from "./metrics.ts";

const f = (xs: number[]) => Float64Array.from(xs);

describe("ranks and correlation", () => {
  it("gives ties their average rank", () => {
    expect(Array.from(averageRanks(f([3, 1, 3, 2, 3])))).toEqual([4, 1, 4, 2, 4]);
  });

  it("spearman is 1 for any increasing relation and -1 for a decreasing one", () => {
    const x = f([1, 2, 3, 4, 5]);
    expect(spearman(x, f([1, 8, 27, 64, 125]))).toBeCloseTo(1, 12);
    expect(spearman(x, f([5, 1, 0, -3, -40]))).toBeCloseTo(-1, 12);
    expect(pearson(x, f([2, 2, 2, 2, 2]))).toBe(0);
  });
});

describe("holdoutMetrics", () => {
  it("computes R², RMSE, MAE and directional accuracy", () => {
    const predicted = f([0.5, -1, 2, 1]);
    const actual = f([1, -2, 1, -1]);
    const m = holdoutMetrics(predicted, actual, 0.75);
    // errors 0.5, -1, -1, -2; mean y = -0.25; SST = 1.5625 + 3.0625 + 1.5625 + 0.5625
    expect(m.rmse).toBeCloseTo(Math.sqrt((0.25 + 1 + 1 + 4) / 4), 12);
    expect(m.mae).toBeCloseTo(4.5 / 4, 12);
    expect(m.r2).toBeCloseTo(1 - 6.25 / 6.75, 12);
    expect(m.directionalAccuracy).toBe(0.75);
    expect(m.samples).toBe(4);
    expect(m.intervalCoverage).toBe(0.75);
  });
});

describe("intervals", () => {
  const n = 2000;
  const predicted = new Float64Array(n);
  // residuals cycle uniformly over -0.5..0.5
  const actual = Float64Array.from({ length: n }, (_, i) => ((i * 7) % 101) / 100 - 0.5);

  it("takes the symmetric residual quantiles", () => {
    const interval = residualInterval(predicted, actual, 0.9);
    expect(interval.level).toBe(0.9);
    expect(interval.lower).toBeCloseTo(-0.45, 2);
    expect(interval.upper).toBeCloseTo(0.45, 2);
    expect(coverage(predicted, actual, interval)).toBeCloseTo(0.9, 1);
  });

  it("measures coverage out of sample and reveals a changed residual spread", () => {
    expect(splitHalfCoverage(predicted, actual, 0.8)).toBeCloseTo(0.8, 1);
    const wider = actual.map((v, i) => (i < n / 2 ? v : 2 * v));
    expect(splitHalfCoverage(predicted, wider, 0.8)).toBeLessThan(0.5);
  });
});

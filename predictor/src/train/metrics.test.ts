import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  argsort,
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

  it("ranks like the definition (1 + smaller + (equal - 1) / 2) on any sample, ties and sorted runs included", () => {
    const sample = fc.oneof(
      fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }),
      fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), { maxLength: 200 }),
      fc
        .integer({ min: 0, max: 300 })
        .map((n) => Array.from({ length: n }, (_, i) => (i % 7 === 0 ? 0 : n - i))),
    );
    fc.assert(
      fc.property(sample, (xs) => {
        const ranks = averageRanks(Float64Array.from(xs));
        xs.forEach((x, i) => {
          const smaller = xs.filter((y) => y < x).length;
          const equal = xs.filter((y) => y === x).length;
          expect(ranks[i]).toBe(1 + smaller + (equal - 1) / 2);
        });
        const order = Array.from(argsort(Float64Array.from(xs)), (k) => xs[k] as number);
        expect(order).toEqual([...xs].sort((a, b) => a - b));
      }),
      { numRuns: 300 },
    );
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

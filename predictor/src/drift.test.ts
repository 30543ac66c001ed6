import { describe, expect, it } from "vitest";
import { binIndex, EDGE_SAMPLE, PSI_EPSILON, psi, quantileSorted, referenceDistribution } from "./drift.ts";

function countsFor(edges: number[], values: number[]): number[] {
  const counts = new Array<number>(edges.length + 1).fill(0);
  for (const v of values) counts[binIndex(edges, v)] = (counts[binIndex(edges, v)] ?? 0) + 1;
  return counts;
}

describe("referenceDistribution", () => {
  it("has 9 decile edges and 10 equal shares for distinct values", () => {
    const values = Array.from({ length: 1000 }, (_, i) => (i * 7919) % 1000);
    const ref = referenceDistribution(values);
    expect(ref.edges).toHaveLength(9);
    expect(ref.edges[0]).toBeCloseTo(99.9, 10);
    expect(ref.edges[8]).toBeCloseTo(899.1, 10);
    expect(ref.proportions).toHaveLength(10);
    for (const p of ref.proportions) expect(p).toBeCloseTo(0.1, 10);
  });

  it("takes edges from an even sample above EDGE_SAMPLE values and counts every value", () => {
    const n = 3 * EDGE_SAMPLE + 7;
    const values = Float64Array.from({ length: n }, (_, i) => ((i * 7919) % n) / n);
    const ref = referenceDistribution(values);
    ref.edges.forEach((e, d) => {
      expect(Math.abs(e - (d + 1) / 10)).toBeLessThan(0.002);
    });
    const counts = countsFor(ref.edges, Array.from(values));
    expect(ref.proportions).toEqual(counts.map((c) => c / n));
  });

  it("ignores non-finite values and counts ties where binIndex puts them", () => {
    const ref = referenceDistribution([0, 0, 0, 0, 0, 1, 1, 1, 1, 1, Number.NaN]);
    expect(ref.proportions.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 12);
    expect(ref.proportions).toEqual(countsFor(ref.edges, [0, 0, 0, 0, 0, 1, 1, 1, 1, 1]).map((c) => c / 10));
    expect(() => referenceDistribution([Number.NaN])).toThrow(/no finite values/);
  });
});

describe("binIndex", () => {
  it("puts v in bin i when edges[i-1] <= v < edges[i]", () => {
    const edges = [1, 2, 3];
    expect([0.5, 1, 1.5, 2, 3, 9].map((v) => binIndex(edges, v))).toEqual([0, 1, 1, 2, 3, 3]);
  });
});

describe("psi", () => {
  const ref = referenceDistribution(Array.from({ length: 1000 }, (_, i) => i));

  it("is 0 for a sample shaped like the reference and for no sample", () => {
    expect(psi(ref, new Array(10).fill(30))).toBeCloseTo(0, 12);
    expect(psi(ref, new Array(10).fill(0))).toBe(0);
  });

  it("grows with the shift and floors empty bins at epsilon", () => {
    const small = psi(ref, [8, 10, 10, 10, 10, 10, 10, 10, 10, 12]);
    const all = psi(ref, [0, 0, 0, 0, 0, 0, 0, 0, 0, 50]);
    expect(small).toBeGreaterThan(0);
    expect(small).toBeLessThan(0.1);
    const expected = 9 * (PSI_EPSILON - 0.1) * Math.log(PSI_EPSILON / 0.1) + 0.9 * Math.log(1 / 0.1);
    expect(all).toBeCloseTo(expected, 10);
    expect(all).toBeGreaterThan(0.25);
  });

  it("rejects a count vector of the wrong size", () => {
    expect(() => psi(ref, [1, 2, 3])).toThrow(/3 counts for 10 reference bins/);
  });
});

it("quantileSorted interpolates linearly like numpy", () => {
  expect(quantileSorted([1, 2, 3, 4], 0.5)).toBe(2.5);
  expect(quantileSorted([1, 2, 3, 4], 0.9)).toBeCloseTo(3.7, 12);
});

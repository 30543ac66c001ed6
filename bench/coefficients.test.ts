import { describe, expect, it } from "vitest";
import { maxRelativeDifference, median, relativeDifference } from "./coefficients.ts";

describe("relative differences", () => {
  it("scale by the larger magnitude and treat two zeros as equal", () => {
    expect(relativeDifference(1, 1.25)).toBe(0.2);
    expect(relativeDifference(1.25, 1)).toBe(0.2);
    expect(relativeDifference(-2, 2)).toBe(2);
    expect(relativeDifference(0, 0)).toBe(0);
  });
  it("take the worst of intercept and coefficients", () => {
    const a = { intercept: 1, coef: [1, 100] };
    expect(maxRelativeDifference(a, { intercept: 1, coef: [1, 101] })).toBeCloseTo(1 / 101, 12);
    expect(maxRelativeDifference(a, { intercept: 2, coef: [1, 100] })).toBe(0.5);
    expect(() => maxRelativeDifference(a, { intercept: 1, coef: [1] })).toThrow(/2 and 1 coefficients/);
  });
});

describe("median", () => {
  it("is the middle value, or the mean of the two middle ones", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(() => median([])).toThrow(/no values/);
  });
});

import { describe, expect, it } from "vitest";
import { dueAtMs, dueCount, percentile, sliceOwner, summarizeLatencies } from "./latency.ts";

describe("percentile", () => {
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1);
  it("is the nearest rank", () => {
    expect(percentile(sorted, 50)).toBe(50);
    expect(percentile(sorted, 99)).toBe(99);
    expect(percentile(sorted, 99.9)).toBe(100);
    expect(percentile(sorted, 100)).toBe(100);
    expect(percentile([7], 1)).toBe(7);
  });
  it("rejects no samples and an out-of-range p", () => {
    expect(() => percentile([], 50)).toThrow(/no samples/);
    expect(() => percentile(sorted, 0)).toThrow(/p must be in/);
    expect(() => percentile(sorted, 101)).toThrow(/p must be in/);
  });
});

describe("constant-rate schedule", () => {
  it("makes the first request due at once and then one every 1/rate", () => {
    expect(dueCount(0, 1000)).toBe(1);
    expect(dueCount(0.999, 1000)).toBe(1);
    expect(dueCount(1, 1000)).toBe(2);
    expect(dueCount(1000, 5000)).toBe(5001);
    expect(dueAtMs(0, 4000)).toBe(0);
    expect(dueAtMs(4000, 4000)).toBe(1000);
  });
  it("agrees with itself: request i becomes due at dueAtMs(i), not before", () => {
    for (const rate of [1, 333, 7000]) {
      for (const i of [1, 17, 999]) {
        expect(dueCount(dueAtMs(i, rate) + 1e-6, rate)).toBe(i + 1);
        expect(dueCount(dueAtMs(i, rate) - 1e-6, rate)).toBe(i);
      }
    }
  });
});

describe("summarizeLatencies", () => {
  it("summarizes unsorted samples without reordering the caller's array", () => {
    const samples = Float64Array.from([5, 1, 4, 2, 3]);
    expect(summarizeLatencies(samples)).toEqual({
      count: 5,
      mean: 3,
      p50: 3,
      p90: 5,
      p99: 5,
      p999: 5,
      max: 5,
    });
    expect(Array.from(samples)).toEqual([5, 1, 4, 2, 3]);
  });
});

describe("sliceOwner", () => {
  it("gives each owner in turn one slice, from 0, and starts over", () => {
    const owners = [0, 49.99, 50, 99, 100, 149, 150, 250].map((ms) => sliceOwner(ms, 50, 3));
    expect(owners).toEqual([0, 0, 1, 1, 2, 2, 0, 2]);
    expect(sliceOwner(1e6, 50, 1)).toBe(0);
  });
});

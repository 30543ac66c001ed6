import { describe, expect, it } from "vitest";
import { directionalHit, PredictionCache, PredictionIds } from "./prediction-cache.ts";

describe("PredictionCache", () => {
  it("finds a remembered prediction once", () => {
    const cache = new PredictionCache(10, 1000, () => 0);
    cache.remember("a", 0.5);
    expect(cache.take("a")).toEqual({ status: "scored", prediction: 0.5 });
    expect(cache.take("a")).toEqual({ status: "unknown" });
    expect(cache.take("never")).toEqual({ status: "unknown" });
  });

  it("keeps only the most recent `capacity` predictions", () => {
    const cache = new PredictionCache(3, 1000, () => 0);
    for (const [i, id] of ["a", "b", "c", "d", "e"].entries()) cache.remember(id, i);
    expect(cache.size).toBe(3);
    expect(cache.take("a").status).toBe("unknown");
    expect(cache.take("b").status).toBe("unknown");
    expect(cache.take("e")).toEqual({ status: "scored", prediction: 4 });
  });

  it("does not let an evicted slot's id take a newer prediction's place", () => {
    const cache = new PredictionCache(2, 1000, () => 0);
    cache.remember("a", 1);
    expect(cache.take("a").status).toBe("scored");
    cache.remember("b", 2);
    cache.remember("c", 3);
    cache.remember("d", 4);
    expect(cache.take("b").status).toBe("unknown");
    expect(cache.take("c")).toEqual({ status: "scored", prediction: 3 });
    expect(cache.take("d")).toEqual({ status: "scored", prediction: 4 });
  });

  it("reports a prediction older than the TTL as expired", () => {
    let now = 1000;
    const cache = new PredictionCache(10, 500, () => now);
    cache.remember("old", 1);
    now = 1400;
    cache.remember("young", 2);
    now = 1501;
    expect(cache.take("old")).toEqual({ status: "expired" });
    expect(cache.take("young")).toEqual({ status: "scored", prediction: 2 });
  });
});

describe("PredictionIds", () => {
  it("never repeats, within a process or across two", () => {
    const a = new PredictionIds();
    const b = new PredictionIds();
    const ids = new Set([
      ...Array.from({ length: 1000 }, () => a.next()),
      ...Array.from({ length: 1000 }, () => b.next()),
    ]);
    expect(ids.size).toBe(2000);
  });
});

describe("directionalHit", () => {
  it("is a hit when the signs agree", () => {
    expect(directionalHit(0.01, 0.002)).toBe(true);
    expect(directionalHit(-0.01, -0.5)).toBe(true);
    expect(directionalHit(0.01, -0.002)).toBe(false);
    expect(directionalHit(0, 0.002)).toBe(false);
  });
});

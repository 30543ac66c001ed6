import { describe, expect, it } from "vitest";
import { directionalHit, PredictionCache } from "./prediction-cache.ts";

/** Remembers one prediction and returns its id. */
function rememberOne(cache: PredictionCache, prediction: number): string {
  return cache.idOf(cache.remember([prediction], 1));
}

describe("PredictionCache", () => {
  it("finds a remembered prediction by its id, once", () => {
    const cache = new PredictionCache(10, 1000, () => 0);
    const id = rememberOne(cache, 0.5);
    expect(cache.take(id)).toEqual({ status: "scored", prediction: 0.5 });
    expect(cache.take(id)).toEqual({ status: "unknown" });
  });

  it("gives ids that never repeat, within a cache or across two (two pods)", () => {
    const a = new PredictionCache(10, 1000);
    const b = new PredictionCache(10, 1000);
    const ids = new Set(
      Array.from({ length: 2500 }, (_, i) => [rememberOne(a, i), rememberOne(b, i)]).flat(),
    );
    expect(ids.size).toBe(5000);
  });

  it("writes the ids of a run of predictions as their ids joined by commas, across thousands", () => {
    const cache = new PredictionCache(3000, 1000, () => 0);
    for (const [first, count] of [
      [0, 1],
      [990, 25],
      [5, 2400],
      [1999, 1],
      [1000, 1000],
    ] as const) {
      const ids = Array.from({ length: count }, (_, i) => cache.idOf(first + i));
      expect(cache.idsText(first, count)).toBe(ids.join(","));
      expect(cache.idLength(first + count - 1)).toBe((ids.at(-1) as string).length);
    }
    // One id alone is written as idOf writes it: the process's prefix, then the sequence number.
    expect(cache.idsText(1999, 1)).toMatch(/^[A-Za-z0-9_-]{12}-1999$/);
    expect(cache.idsText(7, 1)).toMatch(/^[A-Za-z0-9_-]{12}-007$/);
  });

  it("writes a short run after a long one without the long one's ids, and no ids as an empty text", () => {
    const cache = new PredictionCache(3000, 1000, () => 0);
    expect(cache.idsText(0, 2500).split(",")).toHaveLength(2500);
    expect(cache.idsText(12, 2)).toBe(`${cache.idOf(12)},${cache.idOf(13)}`);
    expect(cache.idsText(12, 0)).toBe("");
  });

  it("writes a run's ids as idOf writes them, across each place the digits' width could change", () => {
    const cache = new PredictionCache(10, 1000, () => 0);
    const prefix = cache.idOf(0).slice(0, -"000".length);
    for (const [first, last, digits] of [
      [9, 11, ["009", "010", "011"]],
      [99, 101, ["099", "100", "101"]],
      [999, 1001, ["999", "1000", "1001"]],
      [9999, 10001, ["9999", "10000", "10001"]],
      [99999, 100001, ["99999", "100000", "100001"]],
    ] as const) {
      const ids = Array.from({ length: last - first + 1 }, (_, i) => cache.idOf(first + i));
      expect(ids).toEqual(digits.map((d) => prefix + d));
      // As the OIP answer's parameters.prediction_ids carries them: comma-separated in row order.
      expect(cache.idsText(first, ids.length)).toBe(ids.join(","));
    }
  });

  it("finds each prediction by its id across thousands of sequence numbers", () => {
    const cache = new PredictionCache(3000, 1000, () => 0);
    const first = cache.remember(
      Float64Array.from({ length: 2500 }, (_, i) => i),
      2500,
    );
    const ids = Array.from({ length: 2500 }, (_, i) => cache.idOf(first + i));
    expect(ids[7]?.endsWith("-007")).toBe(true);
    expect(ids[1007]?.endsWith("-1007")).toBe(true);
    for (const i of [0, 7, 999, 1000, 1007, 2499]) {
      expect(cache.take(ids[i] as string)).toEqual({ status: "scored", prediction: i });
    }
  });

  it("does not know another cache's ids, or made-up ones", () => {
    const a = new PredictionCache(10, 1000);
    const b = new PredictionCache(10, 1000);
    const id = rememberOne(a, 1);
    expect(b.take(id)).toEqual({ status: "unknown" });
    const prefix = id.slice(0, id.lastIndexOf("-") + 1);
    for (const fake of [
      "",
      "x",
      `${prefix}`,
      `${prefix}-1`,
      `${prefix}1e3`,
      `${prefix}0x0`,
      `${prefix}9`,
      `${prefix}${"9".repeat(30)}`,
      `${prefix}0`,
      `${prefix}0000`,
    ]) {
      expect(a.take(fake)).toEqual({ status: "unknown" });
    }
    expect(a.take(id)).toEqual({ status: "scored", prediction: 1 });
  });

  it("keeps only the most recent `capacity` predictions", () => {
    const cache = new PredictionCache(3, 1000, () => 0);
    const ids = [0, 1, 2, 3, 4].map((p) => rememberOne(cache, p));
    expect(cache.take(ids[0] as string).status).toBe("unknown");
    expect(cache.take(ids[1] as string).status).toBe("unknown");
    expect(cache.take(ids[2] as string)).toEqual({ status: "scored", prediction: 2 });
    expect(cache.take(ids[4] as string)).toEqual({ status: "scored", prediction: 4 });
  });

  it("gives a batch consecutive ids, each finding its own prediction", () => {
    const cache = new PredictionCache(10, 1000, () => 0);
    rememberOne(cache, 9);
    const first = cache.remember(Float64Array.of(0.1, 0.2, 0.3, 0.4), 3);
    const ids = [0, 1, 2].map((i) => cache.idOf(first + i));
    expect(new Set(ids).size).toBe(3);
    expect(ids.map((id) => cache.take(id))).toEqual(
      [0.1, 0.2, 0.3].map((prediction) => ({ status: "scored", prediction })),
    );
    expect(cache.take(cache.idOf(first + 3))).toEqual({ status: "unknown" });
  });

  it("reports a prediction older than the TTL as expired", () => {
    let now = 1000;
    const cache = new PredictionCache(10, 500, () => now);
    const old = rememberOne(cache, 1);
    now = 1400;
    const young = rememberOne(cache, 2);
    now = 1501;
    expect(cache.take(old)).toEqual({ status: "expired" });
    expect(cache.take(young)).toEqual({ status: "scored", prediction: 2 });
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

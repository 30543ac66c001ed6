import { describe, expect, it } from "vitest";
import {
  BatchAnswerWriter,
  type BatchIdentity,
  type BatchInterval,
  SingleAnswerWriter,
} from "./batch-answer.ts";
import { PredictionCache } from "./prediction-cache.ts";

/** The answer as the batch route wrote it before BatchAnswerWriter: JSON.stringify of the objects. */
function objectAnswer(
  identity: BatchIdentity,
  interval: BatchInterval,
  predictions: readonly number[],
  ids: readonly string[],
): string {
  const results = predictions.map((y, i) => ({
    prediction: y,
    interval: { lower: y + interval.lower, upper: y + interval.upper, level: interval.level },
    predictionId: ids[i],
  }));
  return JSON.stringify({ ...identity, results });
}

/** A deterministic generator of numbers in [0, 1) (mulberry32), so that a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Predictions of every shape a double takes in JSON: usual, negative, tiny, huge, integral, exponents. */
function prediction(random: () => number): number {
  const sign = random() < 0.5 ? -1 : 1;
  const kind = Math.floor(random() * 10);
  if (kind <= 3) return sign * random() * 0.01;
  if (kind === 4) return sign * random() * 10 ** -(Math.floor(random() * 320) + 1);
  if (kind === 5) return sign * random() * 10 ** Math.floor(random() * 308);
  if (kind === 6) return sign * Math.floor(random() * 1e6);
  if (kind === 7)
    return [0, -0, 1, 2 ** 53, 1e21, 5e-324, -5e-324, Number.MAX_VALUE][Math.floor(random() * 8)] as number;
  return sign * (random() * 1e-7);
}

function interval(random: () => number): BatchInterval {
  const levels = [0.9, 0.95, 0.8, 1 / 3, 1];
  return {
    lower: -random() * 0.05,
    upper: random() * 0.05,
    level: levels[Math.floor(random() * levels.length)] as number,
  };
}

const identities: BatchIdentity[] = [
  { model: "bench", modelVersion: "bench", track: "stable" },
  { model: 'btc-"momentum"\\é✓', modelVersion: "v12\n", track: "canary" },
];

describe("BatchAnswerWriter", () => {
  it("writes byte for byte what JSON.stringify wrote of the result objects, for random batches", () => {
    const random = seeded(12);
    for (const identity of identities) {
      const writer = new BatchAnswerWriter(identity);
      const cache = new PredictionCache(5000, 60_000, () => 0);
      // One writer for all sizes, large before small: what a batch leaves in its buffers must not show.
      for (const size of [1, 2, 1000, 1, 2, 1000, 37, 999, 2, 1000, 1]) {
        const predictions = Array.from({ length: size }, () => prediction(random));
        const first = cache.remember(predictions, size);
        const ids = Array.from({ length: size }, (_, i) => cache.idOf(first + i));
        const span = interval(random);
        const written = writer.write(span, Float64Array.from(predictions), size, cache, first);
        const expected = objectAnswer(identity, span, predictions, ids);
        expect(written.toString()).toBe(expected);
        expect(Buffer.compare(written, Buffer.from(expected))).toBe(0);
      }
    }
  });

  it("writes an interval bound that overflows, as JSON.stringify does (null)", () => {
    const writer = new BatchAnswerWriter(identities[0] as BatchIdentity);
    const cache = new PredictionCache(10, 60_000, () => 0);
    const span = { lower: -1e308, upper: 1e308, level: 0.9 };
    const predictions = [Number.MAX_VALUE, -Number.MAX_VALUE, 0];
    const first = cache.remember(predictions, 3);
    const ids = [0, 1, 2].map((i) => cache.idOf(first + i));
    const written = writer.write(span, predictions, 3, cache, first);
    expect(written.toString()).toBe(objectAnswer(identities[0] as BatchIdentity, span, predictions, ids));
    expect(written.toString()).toContain('"upper":null');
  });
});

/** A single answer as /v1/predict wrote it before SingleAnswerWriter: JSON.stringify of the object. */
function singleObjectAnswer(identity: BatchIdentity, interval: BatchInterval, y: number, id: string): string {
  return JSON.stringify({
    prediction: y,
    interval: { lower: y + interval.lower, upper: y + interval.upper, level: interval.level },
    predictionId: id,
    ...identity,
  });
}

describe("SingleAnswerWriter", () => {
  it("writes what JSON.stringify wrote of the answer object, for random predictions, levels and identities", () => {
    const random = seeded(13);
    const cache = new PredictionCache(5000, 60_000, () => 0);
    for (const identity of identities) {
      const writer = new SingleAnswerWriter(identity);
      for (let i = 0; i < 3000; i++) {
        const y = prediction(random);
        const id = cache.idOf(cache.remember([y], 1));
        const span = interval(random);
        const written = writer.write(span, y, id);
        expect(written).toBe(singleObjectAnswer(identity, span, y, id));
        expect(JSON.parse(written)).toEqual(JSON.parse(singleObjectAnswer(identity, span, y, id)));
      }
    }
  });

  it("writes an interval bound that overflows as null, and -0 as 0, as JSON.stringify does", () => {
    const writer = new SingleAnswerWriter(identities[0] as BatchIdentity);
    const span = { lower: -1e308, upper: 1e308, level: 0.9 };
    expect(writer.write(span, Number.MAX_VALUE, "id-1")).toBe(
      singleObjectAnswer(identities[0] as BatchIdentity, span, Number.MAX_VALUE, "id-1"),
    );
    expect(writer.write(span, Number.MAX_VALUE, "id-1")).toContain('"upper":null');
    expect(writer.write({ lower: 0, upper: 0, level: 0.5 }, -0, "id-2")).toMatch(/^\{"prediction":0,/);
  });
});

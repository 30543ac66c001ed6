import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchResponseBody } from "./predict-endpoint.ts";

/** What JSON makes of a number: -0 is written as 0. */
const asJson = (x: number) => (x === 0 ? 0 : x);

describe("batchResponseBody", () => {
  it("writes JSON that parses back to exactly the predictions, intervals and ids", () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 });
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 50 }), finite, finite, (ys, lower, upper) => {
        const ids = ys.map((_, i) => `Ab-_9-${i}`);
        const interval = { lower, upper, level: 0.9 };
        const head = JSON.stringify({ model: "m", modelVersion: "v", track: "t" }).slice(0, -1);
        const body = batchResponseBody(
          head,
          interval,
          Float64Array.from(ys),
          ys.length,
          (i) => ids[i] as string,
        );
        expect(JSON.parse(body.toString())).toEqual({
          model: "m",
          modelVersion: "v",
          track: "t",
          results: ys.map((y, i) => ({
            prediction: asJson(y),
            interval: { lower: asJson(y + lower), upper: asJson(y + upper), level: 0.9 },
            predictionId: ids[i],
          })),
        });
      }),
      // -0 is written as 0, so the edge where it arises is always tried.
      { examples: [[[-0], -0, 0]] },
    );
  });

  it("writes every result across pieces, with a head in any script, byte for byte", () => {
    const ys = Array.from({ length: 700 }, (_, i) => (i - 350) / 7);
    const head = JSON.stringify({ model: "modèle-λ", modelVersion: "v", track: "t" }).slice(0, -1);
    const interval = { lower: -0.5, upper: 0.25, level: 0.8 };
    const body = batchResponseBody(head, interval, Float64Array.from(ys), 650, (i) => `id-${i}`);
    const answer = JSON.parse(body.toString("utf8"));
    expect(answer.model).toBe("modèle-λ");
    expect(answer.results).toHaveLength(650);
    expect(answer.results[649]).toEqual({
      prediction: ys[649],
      interval: { lower: (ys[649] as number) - 0.5, upper: (ys[649] as number) + 0.25, level: 0.8 },
      predictionId: "id-649",
    });
    expect(answer.results.map((r: { predictionId: string }) => r.predictionId)).toEqual(
      Array.from({ length: 650 }, (_, i) => `id-${i}`),
    );
  });
});

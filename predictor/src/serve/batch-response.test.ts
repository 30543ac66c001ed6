import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { batchResponseJson } from "./predict-endpoint.ts";

/** What JSON makes of a number: -0 is written as 0. */
const asJson = (x: number) => (x === 0 ? 0 : x);

describe("batchResponseJson", () => {
  it("writes JSON that parses back to exactly the predictions, intervals and ids", () => {
    const finite = fc.double({ noNaN: true, noDefaultInfinity: true, min: -1e100, max: 1e100 });
    fc.assert(
      fc.property(fc.array(finite, { minLength: 1, maxLength: 50 }), finite, finite, (ys, lower, upper) => {
        const ids = ys.map((_, i) => `Ab-_9-${i}`);
        const interval = { lower, upper, level: 0.9 };
        const head = JSON.stringify({ model: "m", modelVersion: "v", track: "t" }).slice(0, -1);
        expect(JSON.parse(batchResponseJson(head, interval, Float64Array.from(ys), ids))).toEqual({
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
});

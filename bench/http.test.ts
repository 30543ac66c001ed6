import { describe, expect, it } from "vitest";
import { roundOrder } from "./http.ts";

describe("roundOrder", () => {
  it("measures every stack once per round and lets each stack go first in turn", () => {
    expect(roundOrder(["predictor", "flask", "node"], 4)).toEqual([
      ["predictor", "flask", "node"],
      ["flask", "node", "predictor"],
      ["node", "predictor", "flask"],
      ["predictor", "flask", "node"],
    ]);
  });
});

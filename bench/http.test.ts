import { describe, expect, it } from "vitest";
import { requestBodies, roundOrder } from "./http.ts";

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

describe("requestBodies", () => {
  it("gives `count` different bodies, rows by name, the first pass the rows themselves", () => {
    const rows = [
      [0.1, -0.2],
      [0.3, 0.4],
      [0.5, 0.6],
    ];
    const lines = requestBodies(["a", "b"], rows, 8).split("\n");
    expect(lines).toHaveLength(8);
    expect(new Set(lines).size).toBe(8);
    const bodies = lines.map((l) => JSON.parse(l) as { features: Record<string, number> });
    expect(bodies.slice(0, 3).map((b) => [b.features.a, b.features.b])).toEqual(rows);
    for (const [i, body] of bodies.entries()) {
      expect(Object.keys(body.features)).toEqual(["a", "b"]);
      expect(body.features.a).toBeCloseTo((rows[i % 3] as number[])[0] as number, 8);
    }
  });
});

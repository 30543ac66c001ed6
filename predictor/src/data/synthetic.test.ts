import { describe, expect, it } from "vitest";
import { computeFeatures } from "../features.ts";
import { generateBars, validateSyntheticOptions } from "./synthetic.ts";
import { rawFromColumns, validateBars } from "./validate.ts";

describe("generateBars", () => {
  it("is deterministic for a seed and differs between seeds", () => {
    const a = generateBars({ seed: 42, bars: 500, regime: "mixed" });
    const b = generateBars({ seed: 42, bars: 500, regime: "mixed" });
    const c = generateBars({ seed: 43, bars: 500, regime: "mixed" });
    expect(Array.from(a.close)).toEqual(Array.from(b.close));
    expect(Array.from(a.close)).not.toEqual(Array.from(c.close));
  });

  it("produces bars that pass validation in every regime", () => {
    for (const regime of ["trending", "meanReverting", "highVolatility", "mixed"] as const) {
      const cols = generateBars({ seed: 5, bars: 3000, regime, startTs: 0, barMs: 1000 });
      expect(validateBars(rawFromColumns(cols)).report.rows).toBe(3000);
      expect(cols.ts[2]).toBe(2000);
    }
  });

  it("high volatility has wider returns than trending", () => {
    const vol = (regime: "trending" | "highVolatility") =>
      computeFeatures(generateBars({ seed: 1, bars: 5000, regime }), ["vol_1000"])
        .columns[0]?.[4999] as number;
    expect(vol("highVolatility")).toBeGreaterThan(2 * vol("trending"));
  });

  it("drift injection shifts volatility and volume from the given bar on", () => {
    const plain = generateBars({ seed: 9, bars: 4000, regime: "trending" });
    const drifted = generateBars({ seed: 9, bars: 4000, regime: "trending", drift: { fromBar: 2000 } });
    expect(Array.from(drifted.close.subarray(0, 2000))).toEqual(Array.from(plain.close.subarray(0, 2000)));
    const features = ["vol_500", "hl_range_500"];
    const before = computeFeatures(drifted, features).columns.map((c) => c[1999] as number);
    const after = computeFeatures(drifted, features).columns.map((c) => c[3999] as number);
    for (let i = 0; i < features.length; i++) expect(after[i]).toBeGreaterThan(1.8 * (before[i] as number));
    const meanVolume = (from: number, to: number) =>
      drifted.volume.subarray(from, to).reduce((s, v) => s + v, 0) / (to - from);
    expect(meanVolume(2000, 4000)).toBeGreaterThan(2.5 * meanVolume(0, 2000));
  });

  it("rejects bad options naming the field", () => {
    expect(validateSyntheticOptions({ seed: 1.5, bars: 0, drift: { fromBar: -1, signalScale: -2 } })).toEqual(
      [
        "synthetic.seed: must be an integer from 0 to 4294967295",
        "synthetic.bars: must be an integer from 500 to 5000000",
        "synthetic.drift.fromBar: must be an integer from 0 to 4999999",
        "synthetic.drift.signalScale: must be a number in [0, 100]",
      ],
    );
    expect(() => generateBars({ seed: 1, bars: 10, regime: "sideways" as "mixed" })).toThrow(
      /synthetic.regime: must be one of/,
    );
  });
});

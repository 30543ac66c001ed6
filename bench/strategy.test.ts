import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { maxMetricDifference } from "./strategy.ts";
import { makeStrategyData, readStrategyData, writeStrategyData } from "./strategy-data.ts";

describe("strategy benchmark", () => {
  it("reads back the data file both runners share, part by part", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strategy-data-"));
    try {
      const data = makeStrategyData(50, 20, 1);
      const path = join(dir, "data.f64");
      await writeStrategyData(path, data);
      expect(await readStrategyData(path, 50, 20)).toEqual(data);
      await expect(readStrategyData(path, 50, 21)).rejects.toThrow(`${path}: 1936 bytes, want 1952`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("compares every metric the project reports with the baseline's, and refuses a missing one", () => {
    const report = (sharpe: number, pValue: number) => ({
      backtestSeconds: [],
      compareSeconds: [],
      metrics: { sharpe, bars: 10 },
      comparison: { pValue },
    });
    expect(maxMetricDifference(report(2, 0.5), report(2.002, 0.5))).toBeCloseTo(0.002 / 2.002, 12);
    expect(() => maxMetricDifference(report(2, 0.5), { ...report(2, 0.5), comparison: {} })).toThrow(
      "baseline does not report comparison.pValue",
    );
  });
});

import { describe, expect, it } from "vitest";
import { parseArtifact, serializeArtifact } from "../artifact.ts";
import { loadRawBars } from "../data/source.ts";
import type { SyntheticOptions } from "../data/synthetic.ts";
import { validateBars } from "../data/validate.ts";
import { evaluateChampion } from "./champion.ts";
import { predictRange } from "./linear.ts";
import { coverage } from "./metrics.ts";
import { parseTrainSpec } from "./spec.ts";
import { buildDesign, type TrainingData, trainModel } from "./train.ts";

const FEATURES = [
  "ret_1",
  "ret_5",
  "vol_20",
  "sma_ratio_5_20",
  "zscore_20",
  "volume_z_20",
  "rsi_14",
  "hl_range",
];

async function dataFor(synthetic: SyntheticOptions): Promise<TrainingData> {
  const loaded = await loadRawBars({ synthetic });
  const { columns, report } = validateBars(loaded.raw);
  return { columns, report, sha256: loaded.sha256 };
}

function specFor(synthetic: SyntheticOptions, extra: Record<string, unknown> = {}, horizon = 1) {
  return parseTrainSpec({
    features: FEATURES,
    target: { horizon },
    algorithm: { type: "ridge", alpha: 1 },
    training: { data: { synthetic }, ...extra },
  });
}

describe("trainModel", () => {
  it("gives a byte-identical artifact for the same data and spec", async () => {
    const synthetic = { seed: 17, bars: 8000 };
    const spec = specFor(synthetic, { walkForward: { folds: 3 } });
    const a = serializeArtifact(trainModel(spec, await dataFor(synthetic), "0.1.0").artifact);
    const b = serializeArtifact(trainModel(spec, await dataFor(synthetic), "0.1.0").artifact);
    expect(a).toBe(b);
    const parsed = parseArtifact(a).artifact;
    expect(parsed.split.walkForward?.metrics).toHaveLength(3);
    expect(Object.keys(parsed.reference)).toEqual([...FEATURES].sort());
    const other = serializeArtifact(
      trainModel(specFor({ seed: 18, bars: 8000 }), await dataFor({ seed: 18, bars: 8000 }), "0.1.0")
        .artifact,
    );
    expect(other).not.toBe(a);
  });

  it("backtests the holdout and every walk-forward fold with the spec's strategy, which the artifact records", async () => {
    const synthetic = { seed: 21, bars: 8000 };
    const data = await dataFor(synthetic);
    const cheap = trainModel(specFor(synthetic, { walkForward: { folds: 2 } }), data, "t").artifact;
    const strategy = { band: 0.0005, positionLimit: 0.5, costBps: 20 };
    const dear = trainModel(specFor(synthetic, { strategy }), data, "t").artifact;
    expect(cheap.strategy).toEqual({ band: 0, positionLimit: 1, costBps: 2 });
    expect(dear.strategy).toEqual(strategy);
    expect(cheap.metrics.strategy?.bars).toBe(cheap.metrics.samples);
    expect(cheap.split.walkForward?.metrics.map((m) => m.strategy?.bars)).toEqual(
      cheap.split.walkForward?.metrics.map((m) => m.samples),
    );
    // Same model, same rows: the band keeps it out of the market on small predictions and the
    // costs are ten times higher, so it trades less and earns less.
    expect(dear.metrics.r2).toBe(cheap.metrics.r2);
    expect(dear.metrics.strategy?.exposure).toBeLessThan(1);
    expect(cheap.metrics.strategy?.exposure).toBe(1);
    expect(dear.metrics.strategy?.sharpe).toBeLessThan(cheap.metrics.strategy?.sharpe as number);
  });

  it("finds the synthetic signal: directional accuracy above 0.5 and positive IC on the holdout", async () => {
    for (const [regime, horizon] of [
      ["trending", 1],
      ["meanReverting", 1],
      ["mixed", 5],
    ] as const) {
      const synthetic = { seed: 3, bars: 30_000, regime };
      const { artifact } = trainModel(specFor(synthetic, {}, horizon), await dataFor(synthetic), "t");
      expect(artifact.metrics.directionalAccuracy, regime).toBeGreaterThan(0.53);
      expect(artifact.metrics.informationCoefficient, regime).toBeGreaterThan(0.05);
      expect(artifact.metrics.r2, regime).toBeGreaterThan(0);
    }
  });

  it("finds no signal in drifted data where the signal is switched off", async () => {
    const synthetic = { seed: 3, bars: 30_000, regime: "trending" as const, drift: { fromBar: 0 } };
    const { artifact } = trainModel(specFor(synthetic), await dataFor(synthetic), "t");
    expect(Math.abs(artifact.metrics.directionalAccuracy - 0.5)).toBeLessThan(0.02);
  });

  it("reports interval coverage near nominal, and the interval holds on fresh data", async () => {
    const synthetic = { seed: 8, bars: 40_000, regime: "trending" as const };
    const spec = specFor(synthetic, { intervalLevel: 0.9 });
    const { artifact } = trainModel(spec, await dataFor(synthetic), "t");
    expect(artifact.interval.level).toBe(0.9);
    expect(artifact.interval.lower).toBeLessThan(0);
    expect(artifact.interval.upper).toBeGreaterThan(0);
    expect(Math.abs(artifact.metrics.intervalCoverage - 0.9)).toBeLessThan(0.02);

    const fresh = await dataFor({ seed: 99, bars: 20_000, regime: "trending" });
    const design = buildDesign(fresh.columns, artifact.features, 1);
    const predicted = predictRange(artifact, design.columns, design.usable);
    const actual = design.target.subarray(design.usable.start, design.usable.end);
    expect(Math.abs(coverage(predicted, actual, artifact.interval) - 0.9)).toBeLessThan(0.02);
  });

  it("records the split with its leakage gap and the data lineage", async () => {
    const synthetic = { seed: 2, bars: 5000 };
    const data = await dataFor(synthetic);
    const { artifact, split } = trainModel(specFor(synthetic, { holdoutFraction: 0.3 }, 7), data, "t");
    expect(artifact.split).toMatchObject({ gapRows: 7, holdoutFraction: 0.3 });
    expect(split.holdout.start).toBe(split.train.end + 7);
    expect(artifact.split.trainRows + artifact.split.gapRows + artifact.split.holdoutRows).toBe(
      5000 - 20 - 7,
    );
    expect(artifact.metrics.samples).toBe(artifact.split.holdoutRows);
    expect(artifact.data).toEqual({
      sha256: data.sha256,
      rows: 5000,
      droppedRows: 0,
      firstTs: data.columns.ts[0],
      lastTs: data.columns.ts[4999],
    });
  });
});

describe("evaluateChampion", () => {
  it("scores the champion on the candidate's holdout rows with its own features", async () => {
    const synthetic = { seed: 4, bars: 12_000 };
    const data = await dataFor(synthetic);
    const candidate = trainModel(specFor(synthetic), data, "t");
    const championSpec = parseTrainSpec({
      features: ["ret_1", "zscore_50"],
      target: { horizon: 1 },
      algorithm: { type: "linear" },
      training: { data: { synthetic } },
    });
    const champion = trainModel(championSpec, data, "t").artifact;
    const strategy = candidate.artifact.strategy ?? { band: 0, positionLimit: 1, costBps: 2 };
    const judged = (model: typeof champion, horizon = 1) =>
      evaluateChampion(
        model,
        data.columns,
        candidate.split.holdout,
        horizon,
        strategy,
        candidate.strategyReturns,
      );
    const { metrics, strategyComparison } = judged(champion);
    expect(metrics.samples).toBe(candidate.artifact.metrics.samples);
    expect(metrics.rmse).not.toBe(candidate.artifact.metrics.rmse);
    expect(metrics.strategy?.bars).toBe(candidate.artifact.metrics.samples);
    expect(strategyComparison.samples).toBe(candidate.artifact.metrics.samples);
    expect(strategyComparison.effectiveSamples).toBeGreaterThan(0);

    const self = judged(candidate.artifact);
    const { intervalCoverage: _c, ...own } = candidate.artifact.metrics;
    expect(self.metrics).toMatchObject(own);
    expect(self.strategyComparison).toMatchObject({ meanDifference: 0, pValue: 1 });

    expect(() => judged(champion, 5)).toThrow(
      "champion predicts a 1-bar horizon but spec.target.horizon is 5; champion and challenger must share the target",
    );
  });
});

describe("buildDesign", () => {
  it("names the feature and bar where bars that passed validation overflow", async () => {
    const data = await dataFor({ seed: 5, bars: 600 });
    const { columns } = data;
    // Two valid bars near the largest double: the 5-bar sum of closes overflows at the second.
    for (const t of [400, 401]) {
      for (const field of ["open", "high", "low", "close"] as const) columns[field][t] = 1e308;
    }
    const ts = new Date(columns.ts[401] as number).toISOString();
    expect(() => buildDesign(columns, ["ret_1", "sma_ratio_5_20"], 1)).toThrow(
      `feature "sma_ratio_5_20" is not finite at bar 401 (ts ${ts}): the bars' values are beyond what double arithmetic holds`,
    );
  });
});

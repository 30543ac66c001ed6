import { describe, expect, it } from "vitest";
import type { StrategyMetrics } from "../../predictor/src/artifact.ts";
import { seededNormals } from "../../predictor/src/data/synthetic.ts";
import { backtest } from "../../predictor/src/train/backtest.ts";
import { holdoutMetrics } from "../../predictor/src/train/metrics.ts";
import { evaluateGate, type GateSpec } from "./gate.ts";
import { metrics } from "./testing/fixtures.ts";

const gate: GateSpec = {
  minR2: 0,
  minDirectionalAccuracy: 0.52,
  compareWithChampion: true,
  championTolerance: 0,
  minSharpe: 0,
};

/** The fixture's strategy metrics (Sharpe 2.5, drawdown 0.04), changed where a test says. */
const strategy = (over: Partial<StrategyMetrics> = {}): StrategyMetrics => ({
  ...(metrics().strategy as StrategyMetrics),
  ...over,
});

describe("offline gate", () => {
  it("passes a candidate above every threshold and lists each check with its numbers", () => {
    const verdict = evaluateGate(gate, metrics({ r2: 0.0123, directionalAccuracy: 0.534 }));
    expect(verdict.passed).toBe(true);
    expect(verdict.message).toBe(
      "passed: R² 0.0123 >= 0.0000 (minR2); directional accuracy 0.5340 >= 0.5200 (minDirectionalAccuracy); Sharpe after costs 2.5000 >= 0.0000 (minSharpe); no champion to compare with",
    );
  });

  it("rejects a candidate below a threshold, naming the failing check first", () => {
    const verdict = evaluateGate(gate, metrics({ r2: 0.004, directionalAccuracy: 0.51 }));
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toMatch(
      /^failed: directional accuracy 0\.5100 < 0\.5200 \(minDirectionalAccuracy\); R² 0\.0040 >= 0\.0000/,
    );
  });

  it("treats a value exactly at the threshold as passing", () => {
    expect(evaluateGate(gate, metrics({ directionalAccuracy: 0.52 })).passed).toBe(true);
  });

  it("rejects a candidate worse than the champion on the same holdout, with both numbers", () => {
    const champion = {
      version: 3,
      metrics: metrics({ r2: 0.02, directionalAccuracy: 0.55 }),
      sameHoldout: true,
    };
    const verdict = evaluateGate(gate, metrics({ r2: 0.015, directionalAccuracy: 0.54 }), champion);
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toContain("R² 0.0150 < 0.0200 (champion v3 on same holdout)");
    expect(verdict.message).toContain("directional accuracy 0.5400 < 0.5500 (champion v3 on same holdout)");
  });

  it("lets the tolerance absorb a small shortfall against the champion", () => {
    const champion = {
      version: 3,
      metrics: metrics({ r2: 0.012, directionalAccuracy: 0.536 }),
      sameHoldout: false,
    };
    const verdict = evaluateGate(
      { ...gate, championTolerance: 0.005 },
      metrics({ r2: 0.01, directionalAccuracy: 0.534 }),
      champion,
    );
    expect(verdict.passed).toBe(true);
    expect(verdict.message).toContain(
      "directional accuracy 0.5340 >= 0.5310 (champion v3 on its own holdout - tolerance 0.005)",
    );
  });

  it("skips the champion when the spec says so, and checks the information coefficient when asked", () => {
    const champion = { version: 3, metrics: metrics({ directionalAccuracy: 0.9 }), sameHoldout: true };
    const verdict = evaluateGate(
      { ...gate, compareWithChampion: false, minInformationCoefficient: 0.1 },
      metrics({ informationCoefficient: 0.05 }),
      champion,
    );
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toMatch(/^failed: information coefficient 0\.0500 < 0\.1000/);
    expect(verdict.message).not.toContain("champion");
  });

  it("rejects a candidate with a good R² whose strategy loses money after costs, with its numbers", () => {
    const candidate = metrics({ r2: 0.05, directionalAccuracy: 0.6, strategy: strategy({ sharpe: -1.25 }) });
    const verdict = evaluateGate(gate, candidate);
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toMatch(
      /^failed: Sharpe after costs -1\.2500 < 0\.0000 \(minSharpe\); R² 0\.0500 >= 0\.0000 \(minR2\); directional accuracy 0\.6000 >= 0\.5200/,
    );
  });

  it("bounds the drawdown and compares Sharpe with the champion's, reporting the autocorrelation-robust test", () => {
    const champion = {
      version: 2,
      metrics: metrics({ strategy: strategy({ sharpe: 3 }) }),
      sameHoldout: true,
      strategyComparison: {
        meanDifference: -2.5e-6,
        standardError: 1e-6,
        pValue: 0.0124,
        effectiveSamples: 3100.4,
        samples: 9000,
        bandwidth: 7.2,
      },
    };
    const verdict = evaluateGate(
      { ...gate, maxDrawdown: 0.03, championSharpeTolerance: 0.25 },
      metrics({ strategy: strategy({ sharpe: 2.5, maxDrawdown: 0.05 }) }),
      champion,
    );
    expect(verdict.passed).toBe(false);
    expect(verdict.message).toContain("max drawdown 0.0500 > 0.0300 (maxDrawdown)");
    expect(verdict.message).toContain(
      "Sharpe after costs 2.5000 < 2.7500 (champion v2 on same holdout - tolerance 0.25)",
    );
    expect(verdict.message).toMatch(
      /; strategy return vs champion v2: -2\.50e-6\/bar, p 0\.0124, effective samples 3100 of 9000 \(Newey-West\)$/,
    );
    const lenient = evaluateGate(
      { ...gate, maxDrawdown: 0.05 },
      metrics({ strategy: strategy({ maxDrawdown: 0.05 }) }),
    );
    expect(lenient.message).toContain("max drawdown 0.0500 <= 0.0500 (maxDrawdown)");
    expect(lenient.passed).toBe(true);
  });

  it("rejects by P&L a model right on small moves and wrong on large ones, although its hit rate passes", () => {
    // Most bars move 5 bps, one in ten moves 100 bps; the model calls every small move and misses
    // every large one: nine right calls in ten, and a strategy that bleeds.
    const normal = seededNormals(11);
    const n = 5000;
    const close = new Float64Array(n + 1);
    const ts = Float64Array.from({ length: n + 1 }, (_, t) => t * 60_000);
    const realized = new Float64Array(n);
    const predicted = new Float64Array(n);
    close[0] = 100;
    for (let t = 0; t < n; t++) {
      const large = t % 10 === 0;
      const sign = normal() > 0 ? 1 : -1;
      realized[t] = sign * (large ? 0.01 : 0.0005);
      predicted[t] = (large ? -sign : sign) * 0.0003;
      close[t + 1] = (close[t] as number) * (1 + (realized[t] as number));
    }
    const run = backtest(
      { predictions: predicted, close, ts, rows: { start: 0, end: n }, targets: realized },
      { band: 0, positionLimit: 1, costBps: 0 },
    );
    const candidate = { ...holdoutMetrics(predicted, realized, 0.9), strategy: run.metrics };
    expect(candidate.directionalAccuracy).toBeCloseTo(0.9, 10);
    expect(run.metrics.hitRate).toBeCloseTo(0.9, 10);
    const verdict = evaluateGate({ ...gate, minR2: -1e9 }, candidate);
    expect(verdict.passed).toBe(false);
    expect(verdict.checks.filter((c) => !c.passed).map((c) => c.metric)).toEqual(["sharpe"]);
    expect(verdict.message).toMatch(/^failed: Sharpe after costs -\d+\.\d{4} < 0\.0000 \(minSharpe\)/);
  });

  it("says when a candidate has no strategy metrics to judge, instead of passing minSharpe in silence", () => {
    const { strategy: _none, ...statistical } = metrics();
    const verdict = evaluateGate({ ...gate, compareWithChampion: false }, statistical);
    expect(verdict.passed).toBe(true);
    expect(verdict.message).toMatch(
      /; no strategy metrics \(trainer without a backtest\): minSharpe not checked$/,
    );
  });
});

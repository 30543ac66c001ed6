import { spawnSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MultivariateLinearRegression } from "ml-regression";
import { describe, expect, it } from "vitest";
import { generateBars } from "../data/synthetic.ts";
import { computeFeatures, forwardReturn } from "../features.ts";
import { fitLinear, fitScaler, predictRange, type RowRange, rawCoefficients } from "./linear.ts";

const FEATURES = ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20", "zscore_20", "volume_z_20", "rsi_14"];
const bars = generateBars({ seed: 21, bars: 6000, regime: "mixed" });
const { columns, firstValidRow } = computeFeatures(bars, FEATURES);
const target = forwardReturn(bars, 1);
const rows: RowRange = { start: firstValidRow, end: bars.length - 1 };
const scaler = fitScaler(columns, FEATURES, rows);

function matrix(): { x: number[][]; y: number[] } {
  const x: number[][] = [];
  const y: number[] = [];
  for (let t = rows.start; t < rows.end; t++) {
    x.push(columns.map((c) => c[t] as number));
    y.push(target[t] as number);
  }
  return { x, y };
}

function expectRelative(actual: number[], expected: number[], tolerance = 1e-6): void {
  expect(actual).toHaveLength(expected.length);
  actual.forEach((a, i) => {
    const e = expected[i] as number;
    const relative = Math.abs(a - e) / Math.max(Math.abs(e), Number.MIN_VALUE);
    expect(relative, `coefficient ${i}: ${a} vs ${e}`).toBeLessThanOrEqual(tolerance);
  });
}

/** Fits scikit-learn on the same rows through Debian's python3 (python3-sklearn). */
function sklearnFit(alpha: number): { intercept: number; coef: number[] } {
  const dir = mkdtempSync(join(tmpdir(), "sklearn-"));
  const { x, y } = matrix();
  writeFileSync(join(dir, "data.csv"), x.map((r, i) => [...r, y[i]].join(",")).join("\n"));
  const script = `
import json, sys
import numpy as np
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
d = np.loadtxt(sys.argv[1], delimiter=",")
X, y = d[:, :-1], d[:, -1]
alpha = float(sys.argv[2])
if alpha == 0:
    m = LinearRegression().fit(X, y)
    print(json.dumps({"intercept": float(m.intercept_), "coef": [float(c) for c in m.coef_]}))
else:
    p = make_pipeline(StandardScaler(), Ridge(alpha=alpha)).fit(X, y)
    r, s = p[-1], p[0]
    coef = r.coef_ / s.scale_
    print(json.dumps({"intercept": float(r.intercept_ - np.dot(coef, s.mean_)), "coef": [float(c) for c in coef]}))
`;
  const run = spawnSync("/usr/bin/python3", ["-c", script, join(dir, "data.csv"), String(alpha)], {
    encoding: "utf8",
  });
  if (run.error || run.status !== 0) {
    throw new Error(
      `scikit-learn reference fit failed (needs Debian python3-sklearn: run bash scripts/apt-deps.sh): ${run.error?.message ?? run.stderr}`,
    );
  }
  return JSON.parse(run.stdout) as { intercept: number; coef: number[] };
}

describe("OLS", () => {
  const model = fitLinear(columns, FEATURES, target, rows, scaler, 0);
  const raw = rawCoefficients(model, scaler);

  it("agrees with ml-regression's MultivariateLinearRegression to 1e-6 relative", () => {
    const { x, y } = matrix();
    const reference = new MultivariateLinearRegression(
      x,
      y.map((v) => [v]),
      { statistics: false },
    );
    const weights = reference.weights.map((w) => w[0] as number);
    expectRelative(raw.weights, weights.slice(0, FEATURES.length));
    expectRelative([raw.intercept], [weights[FEATURES.length] as number]);
  });

  it("agrees with scikit-learn's LinearRegression to 1e-6 relative", () => {
    const reference = sklearnFit(0);
    expectRelative(raw.weights, reference.coef);
    expectRelative([raw.intercept], [reference.intercept]);
  });

  it("predicts with the serving arithmetic", () => {
    const predicted = predictRange({ coefficients: model, scaler }, columns, {
      start: rows.start,
      end: rows.start + 3,
    });
    const expected = raw.weights.reduce(
      (s, w, i) => s + w * ((columns[i] as Float64Array)[rows.start] as number),
      raw.intercept,
    );
    expect(predicted[0]).toBeCloseTo(expected, 14);
  });
});

describe("ridge", () => {
  it("agrees with scikit-learn's StandardScaler + Ridge to 1e-6 relative", () => {
    for (const alpha of [0.5, 250]) {
      const raw = rawCoefficients(fitLinear(columns, FEATURES, target, rows, scaler, alpha), scaler);
      const reference = sklearnFit(alpha);
      expectRelative(raw.weights, reference.coef);
      expectRelative([raw.intercept], [reference.intercept]);
    }
  });

  it("shrinks the weights as alpha grows", () => {
    const norm = (alpha: number) =>
      Math.hypot(...fitLinear(columns, FEATURES, target, rows, scaler, alpha).weights);
    expect(norm(1000)).toBeLessThan(norm(10));
    expect(norm(10)).toBeLessThan(norm(0));
  });
});

describe("errors", () => {
  it("names a constant feature", () => {
    const flat = new Float64Array(100).fill(3);
    expect(() => fitScaler([flat], ["hl_range"], { start: 0, end: 100 })).toThrow(
      'feature "hl_range" is constant on the training rows',
    );
  });

  it("explains collinear features and suggests ridge", () => {
    const a = Float64Array.from({ length: 100 }, (_, i) => Math.sin(i));
    const b = a.map((v) => 2 * v + 1);
    const y = a.map((v) => v + 0.1);
    const r = { start: 0, end: 100 };
    const s = fitScaler([a, b], ["ret_1", "ret_2"], r);
    expect(() => fitLinear([a, b], ["ret_1", "ret_2"], y, r, s, 0)).toThrow(
      /collinear.*use ridge with alpha > 0/,
    );
    expect(fitLinear([a, b], ["ret_1", "ret_2"], y, r, s, 1).weights).toHaveLength(2);
  });
});

import { describe, expect, it } from "vitest";
import type { StrategySettings } from "../artifact.ts";
import { seededNormals } from "../data/synthetic.ts";
import { backtest, barsPerYear, positionFor, YEAR_MS } from "./backtest.ts";

const normals = seededNormals;

const MINUTE = 60_000;

/** A market whose return over bar t -> t+1 is drift[t] + noise: drift[t] is what a model can know at t. */
function market(drift: Float64Array, noiseSd: number, seed: number) {
  const normal = normals(seed);
  const n = drift.length;
  const close = new Float64Array(n + 1);
  const ts = new Float64Array(n + 1);
  const next = new Float64Array(n);
  close[0] = 100;
  for (let t = 0; t < n; t++) {
    next[t] = (drift[t] as number) + noiseSd * normal();
    close[t + 1] = (close[t] as number) * (1 + (next[t] as number));
    ts[t + 1] = t * MINUTE + MINUTE;
  }
  return { close, ts, next, rows: { start: 0, end: n } };
}

const FREE: StrategySettings = { band: 0, positionLimit: 1, costBps: 0 };
const run = (m: ReturnType<typeof market>, predictions: Float64Array, settings = FREE) =>
  backtest({ predictions, close: m.close, ts: m.ts, rows: m.rows, targets: m.next }, settings);

describe("positionFor", () => {
  it("is flat inside the band and at the limit outside it, with the prediction's sign", () => {
    const s = { band: 0.001, positionLimit: 0.5, costBps: 0 };
    expect([-0.002, -0.001, 0, 0.0005, 0.001, 0.0011].map((p) => positionFor(p, s))).toEqual([
      -0.5, 0, 0, 0, 0, 0.5,
    ]);
  });
});

describe("barsPerYear", () => {
  it("is the bars observed per calendar year: minute bars of a 24/7 market and weekday daily bars", () => {
    const minutes = Float64Array.from({ length: 1001 }, (_, i) => i * MINUTE);
    expect(barsPerYear(minutes, { start: 0, end: 1000 })).toBeCloseTo(YEAR_MS / MINUTE, 6);
    const day = 86_400_000;
    const weekdays: number[] = [];
    for (let d = 0; weekdays.length < 2001; d++) if (d % 7 < 5) weekdays.push(d * day);
    expect(barsPerYear(Float64Array.from(weekdays), { start: 0, end: 2000 })).toBeCloseTo(260.9, 0);
  });
});

describe("backtest", () => {
  const n = 20_000;
  const signal = (() => {
    const normal = normals(7);
    return Float64Array.from({ length: n }, () => 0.0003 * normal());
  })();

  it("ranks models by how much of the known signal they use: Sharpe, hit rate and correlation", () => {
    const m = market(signal, 0.001, 1);
    const noise = normals(99);
    const perfect = run(m, signal).metrics;
    const weak = run(
      m,
      signal.map((s) => s + 0.0006 * noise()),
    ).metrics;
    const blind = run(
      m,
      signal.map(() => noise()),
    ).metrics;
    expect(perfect.sharpe).toBeGreaterThan(weak.sharpe);
    expect(weak.sharpe).toBeGreaterThan(blind.sharpe);
    expect(perfect.hitRate).toBeGreaterThan(weak.hitRate);
    expect(perfect.predictionCorrelation).toBeGreaterThan(weak.predictionCorrelation);
    // With no information the Sharpe stays within noise of 0: |t| = |SR| * sqrt(n / barsPerYear) < 3.
    expect(Math.abs(blind.sharpe) * Math.sqrt(n / blind.barsPerYear)).toBeLessThan(3);
    expect(blind.hitRate).toBeGreaterThan(0.47);
    expect(blind.hitRate).toBeLessThan(0.53);
    expect(perfect.cumulativeReturn).toBeGreaterThan(0);
    expect(perfect.bars).toBe(n);
  });

  it("lets costs reverse the ordering: the model that trades on every flip of a fast signal loses its edge", () => {
    const normal = normals(3);
    const slow = new Float64Array(n);
    const fast = new Float64Array(n);
    for (let t = 1; t < n; t++) {
      slow[t] = 0.995 * (slow[t - 1] as number) + 0.00002 * normal();
      fast[t] = 0.0004 * normal();
    }
    const m = market(
      slow.map((s, t) => s + (fast[t] as number)),
      0.001,
      2,
    );
    const slowModel = slow;
    const fastModel = slow.map((s, t) => s + (fast[t] as number));
    const costly = { ...FREE, costBps: 5 };
    const before = { slow: run(m, slowModel).metrics, fast: run(m, fastModel).metrics };
    const after = { slow: run(m, slowModel, costly).metrics, fast: run(m, fastModel, costly).metrics };
    expect(before.fast.sharpe).toBeGreaterThan(before.slow.sharpe);
    expect(after.fast.turnover).toBeGreaterThan(10 * after.slow.turnover);
    expect(after.slow.sharpe).toBeGreaterThan(after.fast.sharpe);
    expect(after.fast.cumulativeReturn).toBeLessThan(0);
    expect(after.slow.cumulativeReturn).toBeGreaterThan(0);
  });

  it("charges the cost on every unit of position traded, the entry included", () => {
    const m = { close: Float64Array.of(100, 100, 100, 100, 100), ts: Float64Array.of(0, 1, 2, 3, 4) };
    const predictions = Float64Array.of(1, -1, -1, 0);
    const { returns, metrics } = backtest(
      { predictions, ...m, rows: { start: 0, end: 4 }, targets: predictions },
      { band: 0, positionLimit: 2, costBps: 10 },
    );
    expect([...returns].map((r) => r + 0)).toEqual([-0.002, -0.004, 0, -0.002]);
    expect(metrics.turnover).toBe(2);
    expect(metrics.exposure).toBe(0.75);
  });

  it("measures the drawdown on compounded equity from its running peak", () => {
    const close = Float64Array.of(100, 110, 99, 89.1, 100);
    const ts = Float64Array.of(0, 1, 2, 3, 4);
    const long = Float64Array.of(1, 1, 1, 1);
    const { metrics } = backtest(
      { predictions: long, close, ts, rows: { start: 0, end: 4 }, targets: long },
      FREE,
    );
    expect(metrics.maxDrawdown).toBeCloseTo(1 - 89.1 / 110, 12);
    expect(metrics.cumulativeReturn).toBeCloseTo(0, 12);
    expect(metrics.hitRate).toBe(0.5);
  });

  it("fixes each bar's position from what was known at its close: later bars and predictions change nothing before them", () => {
    const m = market(signal.subarray(0, 2000), 0.001, 4);
    const predictions = signal.slice(0, 2000);
    const whole = run({ ...m, next: m.next }, predictions);
    const cut = 1200;
    const altered = { ...m, close: m.close.slice() };
    for (let t = cut + 1; t < altered.close.length; t++)
      altered.close[t] = (altered.close[t] as number) * 1.5;
    const changedPredictions = predictions.slice();
    changedPredictions.fill(-1, cut);
    const rerun = run(altered, changedPredictions);
    expect([...rerun.returns.subarray(0, cut)]).toEqual([...whole.returns.subarray(0, cut)]);
  });

  it("catches a planted look-ahead: a model that reads the next close earns an impossible Sharpe on a random walk", () => {
    const m = market(new Float64Array(n), 0.001, 5);
    const honest = new Float64Array(n);
    const leaky = new Float64Array(n);
    for (let t = 0; t < n; t++) {
      // Honest: the return of the bar that just closed. Leaky: the bug reads close[t + 1].
      honest[t] = t === 0 ? 0 : (m.close[t] as number) / (m.close[t - 1] as number) - 1;
      leaky[t] = (m.close[t + 1] as number) / (m.close[t] as number) - 1;
    }
    const fair = run(m, honest).metrics;
    const peeking = run(m, leaky).metrics;
    expect(Math.abs(fair.sharpe) * Math.sqrt(n / fair.barsPerYear)).toBeLessThan(3);
    expect(peeking.hitRate).toBe(1);
    expect(peeking.sharpe * Math.sqrt(n / peeking.barsPerYear)).toBeGreaterThan(50);
  });
});

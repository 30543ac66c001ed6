import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { StrategySettings } from "../artifact.ts";
import { seededNormals } from "../data/synthetic.ts";
import { positionFor } from "../train/backtest.ts";
import { StrategyPnl } from "./pnl.ts";
import { metricValue, scrape, type TestPredictor, testArtifactFile, testPredictor } from "./test-support.ts";

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

const STRATEGY: StrategySettings = { band: 0.0005, positionLimit: 2, costBps: 3 };
const LABELS = { model: "demo", version: "v3", track: "canary" };

function servedWith(strategy?: StrategySettings): TestPredictor {
  const p = testPredictor({ MODEL_TRACK: LABELS.track, MODEL_VERSION: LABELS.version }, { load: false });
  p.state.load(testArtifactFile(strategy ? { strategy } : {}));
  return p;
}

async function predict(rows: number[][]): Promise<{ predictionId: string; prediction: number }[]> {
  const res = await predictor.inject({
    method: "POST",
    url: "/v1/predict/batch",
    payload: { rows: rows.map((features) => ({ features })) },
  });
  return res.json().results;
}

async function feedback(items: { predictionId: string; realized: number }[]): Promise<void> {
  const res = await predictor.inject({ method: "POST", url: "/v1/feedback", payload: { items } });
  expect(res.statusCode).toBe(200);
}

/**
 * Predictions of both signs, some inside the band, and realized returns loosely following them,
 * except the last ten, which go against them: the P&L ends in a drawdown.
 */
async function tradeOutcomes(count: number) {
  const normal = seededNormals(5);
  const rows = Array.from({ length: count }, () => [
    0.01 * normal(),
    0.02 * normal(),
    0.02 + 0.01 * normal(),
  ]);
  const predicted = await predict(rows);
  const outcomes = predicted.map((p, i) => ({
    ...p,
    realized: i >= count - 10 ? -p.prediction : 0.5 * p.prediction + 0.002 * normal(),
  }));
  await feedback(outcomes.map(({ predictionId, realized }) => ({ predictionId, realized })));
  return outcomes;
}

/** What the documented queries should give, computed directly from the outcomes. */
function expected(outcomes: { prediction: number; realized: number }[], s: StrategySettings) {
  const n = outcomes.length;
  const trades = outcomes.map(({ prediction, realized }) => {
    const position = positionFor(prediction, s);
    return {
      position,
      gross: position * realized,
      net: position * realized - (2 * s.costBps * Math.abs(position)) / 1e4,
    };
  });
  const mean = trades.reduce((a, t) => a + t.net, 0) / n;
  const sd = Math.sqrt(trades.reduce((a, t) => a + t.net * t.net, 0) / n - mean * mean);
  const avg = (f: (o: { prediction: number; realized: number }) => number) =>
    outcomes.reduce((a, o) => a + f(o), 0) / n;
  const [mx, my] = [avg((o) => o.prediction), avg((o) => o.realized)];
  const cov = avg((o) => o.prediction * o.realized) - mx * my;
  const vx = avg((o) => o.prediction ** 2) - mx * mx;
  const vy = avg((o) => o.realized ** 2) - my * my;
  let cumulative = 0;
  let peak = 0;
  let drawdown = 0;
  for (const t of trades) {
    cumulative += t.net;
    peak = Math.max(peak, cumulative);
    drawdown = peak - cumulative;
  }
  const inMarket = trades.filter((t) => t.position !== 0);
  return {
    trades,
    queries: {
      mean_return: mean,
      sharpe_per_trade: mean / sd,
      sharpe_annualized: (mean / sd) * Math.sqrt(n * 8766),
      hit_rate: inMarket.filter((t) => t.gross > 0).length / inMarket.length,
      pnl_correlation: cov / Math.sqrt(vx * vy),
      drawdown,
    } as Record<string, number>,
  };
}

/** The named queries of the PromQL block in docs/trading.md. */
function documentedQueries(): Map<string, string> {
  const doc = readFileSync(new URL("../../../docs/trading.md", import.meta.url), "utf8");
  const block = /```promql\n([\s\S]*?)```/.exec(doc)?.[1] ?? "";
  const queries = new Map<string, string>();
  for (const part of block.split(/^# /m).filter(Boolean)) {
    const [name, ...lines] = part.split("\n");
    queries.set(name as string, lines.join("\n").trim());
  }
  return queries;
}

/** The exposition's strategy series as promtool input: their value before and after the feedback. */
function inputSeries(before: string, after: string): { series: string; values: string }[] {
  const samples = (text: string) =>
    new Map(
      text
        .split("\n")
        .filter((l) => /^predictor_(strategy|pnl)_/.test(l))
        .map((l) => [l.slice(0, l.lastIndexOf(" ")), l.slice(l.lastIndexOf(" ") + 1)]),
    );
  const first = samples(before);
  return [...samples(after)].map(([series, value]) => ({
    series,
    values: `${first.get(series) ?? 0} ${value}`,
  }));
}

describe("the strategy's P&L from feedback", () => {
  it("scores each matched prediction as a round trip of the artifact's strategy, per model, version and track", async () => {
    predictor = servedWith(STRATEGY);
    const outcomes = await tradeOutcomes(200);
    const { trades, queries } = expected(outcomes, STRATEGY);
    const metrics = await scrape(predictor);
    const value = (name: string, labels: Record<string, string> = {}) =>
      metricValue(metrics, name, { ...LABELS, ...labels }) ?? Number.NaN;
    expect(value("predictor_strategy_outcomes_total")).toBe(200);
    const inMarket = trades.filter((t) => t.position !== 0);
    expect(inMarket.length).toBeGreaterThan(20);
    expect(inMarket.length).toBeLessThan(200);
    expect(value("predictor_strategy_positions_total")).toBe(inMarket.length);
    expect(value("predictor_strategy_hits_total")).toBe(inMarket.filter((t) => t.gross > 0).length);
    const net = trades.reduce((a, t) => a + t.net, 0);
    const signedSum =
      value("predictor_strategy_return_total", { sign: "positive" }) -
      value("predictor_strategy_return_total", { sign: "negative" });
    expect(signedSum).toBeCloseTo(net, 12);
    expect(value("predictor_strategy_cumulative_return")).toBeCloseTo(net, 12);
    expect(queries.drawdown).toBeGreaterThan(0);
    expect(value("predictor_strategy_drawdown")).toBeCloseTo(queries.drawdown as number, 12);
  });

  it("is documented: every series it defines has a row in docs/trading.md", () => {
    const doc = readFileSync(new URL("../../../docs/trading.md", import.meta.url), "utf8");
    const registry = new Registry();
    new StrategyPnl(registry);
    const names = registry.getMetricsAsArray().map((m) => m.name);
    expect(names.length).toBe(12);
    for (const name of names) expect(doc, name).toMatch(new RegExp(`^\\| \`${name}\` `, "m"));
  });

  it("scores an artifact that records no strategy with the default one", async () => {
    predictor = servedWith();
    expect(predictor.state.pnl.settings).toEqual({ band: 0, positionLimit: 1, costBps: 2 });
  });

  it("gives the documented PromQL's Sharpe, hit rate, P&L correlation and drawdown, as Prometheus evaluates them", async () => {
    predictor = servedWith(STRATEGY);
    const before = await scrape(predictor);
    const outcomes = await tradeOutcomes(300);
    const after = await scrape(predictor);
    const { queries: want } = expected(outcomes, STRATEGY);
    const queries = documentedQueries();
    expect([...queries.keys()].sort()).toEqual(Object.keys(want).sort());
    const dir = mkdtempSync(join(tmpdir(), "pnl-promql-"));
    try {
      const tests = {
        rule_files: [],
        tests: [
          {
            interval: "1m",
            input_series: inputSeries(before, after).map((s) => ({ series: s.series, values: s.values })),
            promql_expr_test: [...queries].map(([name, expr]) => ({
              // Within 1e-9 relative (1e-15 absolute, for a drawdown of 0): promtool compares the 0/1 result exactly.
              expr: `abs((${expr}) - ${want[name]}) <= bool ${1e-9 * Math.abs(want[name] as number) + 1e-15}`,
              eval_time: "1m",
              exp_samples: [{ labels: "{}", value: 1 }],
            })),
          },
        ],
      };
      const file = join(dir, "pnl.test.json");
      writeFileSync(file, JSON.stringify(tests));
      const run = () =>
        execFileSync("promtool", ["test", "rules", file], { encoding: "utf8", stdio: "pipe" });
      expect(run).not.toThrow();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

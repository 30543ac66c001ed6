/**
 * The strategy's evaluation: the backtest over 1,000,000 bars and the Newey-West comparison of two
 * strategies over 100,000 bars, by the project's code and by numpy on the very same data (written
 * once, read by both), each in its own process pinned to the client core, warmed up, median of
 * several runs; the two must agree on every metric.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { median, relativeDifference } from "./coefficients.ts";
import { runClient } from "./processes.ts";
import { PYTHON, ROOT } from "./stacks.ts";
import { makeStrategyData, writeStrategyData } from "./strategy-data.ts";
import { correctnessCheck, type Figure } from "./summary.ts";

export const STRATEGY_SETTINGS = {
  bars: 1_000_000,
  compared: 100_000,
  repeats: 7,
  seed: 13,
  strategy: { band: 0.00005, positionLimit: 1, costBps: 2 },
};

interface StrategyReport {
  backtestSeconds: number[];
  compareSeconds: number[];
  metrics: Record<string, number>;
  comparison: Record<string, number>;
}

function parseReport(stdout: string, what: string): StrategyReport {
  const r = JSON.parse(stdout) as Partial<StrategyReport>;
  if (!Array.isArray(r.backtestSeconds) || !Array.isArray(r.compareSeconds) || !r.metrics || !r.comparison) {
    throw new Error(
      `${what}: expected {backtestSeconds, compareSeconds, metrics, comparison}, got ${stdout.slice(0, 300)}`,
    );
  }
  return r as StrategyReport;
}

/** The largest relative difference over every metric and comparison figure both report. */
export function maxMetricDifference(a: StrategyReport, b: StrategyReport): number {
  let worst = 0;
  for (const part of ["metrics", "comparison"] as const) {
    for (const [key, value] of Object.entries(a[part])) {
      const other = b[part][key];
      if (typeof other !== "number") throw new Error(`baseline does not report ${part}.${key}`);
      worst = Math.max(worst, relativeDifference(value, other));
    }
  }
  return worst;
}

/** Our median time against numpy's, with the bound in seconds. */
const timing = (name: string, ours: number[], numpy: number[], atMost: number): Figure => ({
  name,
  value: median(ours),
  unit: "s",
  better: "lower",
  baseline: { name: "numpy, vectorized", value: median(numpy) },
  goal: { atMost },
});

export async function benchStrategy(resultsDir: string): Promise<Figure[]> {
  const s = STRATEGY_SETTINGS;
  const dir = await mkdtemp(join(tmpdir(), "bench-strategy-"));
  try {
    const path = join(dir, "strategy.f64");
    await writeStrategyData(path, makeStrategyData(s.bars, s.compared, s.seed));
    const { band, positionLimit, costBps } = s.strategy;
    const args = [path, s.bars, s.compared, s.repeats, band, positionLimit, costBps].map(String);
    const loadBefore = loadavg();
    const ours = parseReport(
      await runClient(process.execPath, [join(ROOT, "bench", "strategy-runner.ts"), ...args], {}, 120_000),
      "strategy-runner.ts",
    );
    const numpy = parseReport(
      await runClient(PYTHON, [join(ROOT, "bench", "baselines", "numpy_strategy.py"), ...args], {}, 120_000),
      "numpy_strategy.py",
    );
    const agreement = maxMetricDifference(ours, numpy);
    await writeFile(
      join(resultsDir, "strategy.json"),
      `${JSON.stringify({ settings: s, loadAverage: { before: loadBefore, after: loadavg() }, ours, numpy, maxRelativeDifference: agreement }, null, 2)}\n`,
    );
    return [
      timing("backtest 1M bars, median", ours.backtestSeconds, numpy.backtestSeconds, 0.1),
      timing("Newey-West comparison of 100k bars, median", ours.compareSeconds, numpy.compareSeconds, 1),
      correctnessCheck("backtest and comparison vs numpy, max rel diff", agreement, 1e-6),
    ];
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

import type { StrategyMetrics, StrategySettings } from "../artifact.ts";
import type { RowRange } from "./linear.ts";
import { pearson } from "./metrics.ts";

/**
 * The trading strategy a model is judged by, walked forward bar by bar over time-ordered rows.
 *
 * At the close of bar t the model's prediction p[t] is known (its features read bars up to t).
 * The strategy then holds position[t] = 0 when |p[t]| <= band, else sign(p[t]) * positionLimit
 * (a fraction of capital: 1 is fully invested long or short) over the next bar, and earns
 *   r[t] = position[t] * (close[t+1] / close[t] - 1) - costBps / 10000 * |position[t] - position[t-1]|,
 * the position before the first row being 0 (the entry is paid). Nothing about bar t+1 is read
 * before position[t] is fixed: a position depends on its own prediction only.
 */

/** Calendar milliseconds in a year of 365.25 days. */
export const YEAR_MS = 365.25 * 24 * 3600 * 1000;

export interface BacktestInput {
  /** p[i]: the prediction known at the close of row range.start + i. */
  predictions: Float64Array;
  /** The bars' closes and timestamps, indexed by row; close[end] must exist (the last bar traded into). */
  close: Float64Array;
  ts: Float64Array;
  rows: RowRange;
  /** The returns the predictions were made for (the target), for the prediction/realized correlation. */
  targets: Float64Array;
}

export interface Backtest {
  /** Strategy return after costs of each row, in row order. */
  returns: Float64Array;
  metrics: StrategyMetrics;
}

export function positionFor(prediction: number, settings: StrategySettings): number {
  return Math.abs(prediction) <= settings.band ? 0 : Math.sign(prediction) * settings.positionLimit;
}

/**
 * Bars per year as observed over the rows: their count over the calendar time they span. Daily
 * stock bars (no weekends, no holidays) come out near 252 and minute bars of a 24/7 market near
 * 525,960, without a setting to get wrong.
 */
export function barsPerYear(ts: Float64Array, rows: RowRange): number {
  const span = (ts[rows.end] as number) - (ts[rows.start] as number);
  return span > 0 ? ((rows.end - rows.start) * YEAR_MS) / span : 0;
}

/**
 * Sharpe and Sortino from a return series' sums, annualized by sqrt(bars per year); 0 where the
 * denominator is 0 (no variation, or no losing bar for Sortino). Sortino's downside deviation is
 * sqrt(mean(min(r, 0)²)), against a target of 0.
 */
function riskAdjusted(
  n: number,
  sum: number,
  squares: number,
  downside: number,
  perYear: number,
): { sharpe: number; sortino: number } {
  if (n === 0) return { sharpe: 0, sortino: 0 };
  const mean = sum / n;
  const sd = Math.sqrt(Math.max(0, squares / n - mean * mean));
  const dd = Math.sqrt(downside / n);
  const scale = Math.sqrt(perYear);
  return { sharpe: sd > 0 ? (mean / sd) * scale : 0, sortino: dd > 0 ? (mean / dd) * scale : 0 };
}

export function backtest(input: BacktestInput, settings: StrategySettings): Backtest {
  const { predictions, close, rows } = input;
  const n = rows.end - rows.start;
  const costRate = settings.costBps / 10_000;
  const returns = new Float64Array(n);
  let previous = 0;
  let equity = 1;
  let peak = 1;
  let maxDrawdown = 0;
  let turnover = 0;
  let inMarket = 0;
  let hits = 0;
  let sum = 0;
  let squares = 0;
  let downside = 0;
  let price = close[rows.start] as number;
  for (let i = 0; i < n; i++) {
    const position = positionFor(predictions[i] as number, settings);
    const next = close[rows.start + i + 1] as number;
    const gross = position * (next / price - 1);
    price = next;
    const traded = Math.abs(position - previous);
    const r = gross - costRate * traded;
    returns[i] = r;
    sum += r;
    squares += r * r;
    if (r < 0) downside += r * r;
    turnover += traded;
    if (position !== 0) {
      inMarket++;
      if (gross > 0) hits++;
    }
    equity *= 1 + r;
    if (equity > peak) peak = equity;
    // Compared by a product first: a division per bar is most of a 1M-bar backtest's time.
    else if (equity < peak * (1 - maxDrawdown)) maxDrawdown = 1 - equity / peak;
    previous = position;
  }
  const perYear = barsPerYear(input.ts, rows);
  return {
    returns,
    metrics: {
      bars: n,
      barsPerYear: perYear,
      ...riskAdjusted(n, sum, squares, downside, perYear),
      maxDrawdown: Math.min(1, maxDrawdown),
      hitRate: inMarket > 0 ? hits / inMarket : 0,
      exposure: n > 0 ? inMarket / n : 0,
      turnover: n > 0 ? turnover / n : 0,
      cumulativeReturn: equity - 1,
      predictionCorrelation: pearson(predictions, input.targets),
    },
  };
}

import { type Bar, type BarColumns, emptyColumns, fillColumns } from "./bars.ts";

/**
 * Point-in-time features. Every feature is a named family with integer parameters, and its value
 * at row t is a pure function of the bars in the window [t - window + 1, t]: nothing after t is read.
 * Training (`computeFeatures`) and serving (`FeatureWindow`) call the same per-row kernel on
 * the same window, so a served feature is bit-identical to the training value for that bar.
 * Each row is computed from its own window rather than with running sums: running sums would make
 * a value depend on how far back the series starts, and serving sees only a short window.
 *
 * Returns are natural-log returns throughout: ln(close[t] / close[t - k]).
 */

export class FeatureError extends Error {
  override name = "FeatureError";
}

interface FeatureFamily {
  /** Name pattern, e.g. `ret_{k}`. */
  form: string;
  pattern: RegExp;
  description: string;
  /** Builds the feature from the name's integer parameters; throws a message on a bad parameter. */
  build(params: number[]): { window: number; valueAt: (c: FeatureInput, t: number) => number };
}

export interface ParsedFeature {
  name: string;
  family: string;
  params: number[];
  /** Bars the feature reads, the current one included. */
  window: number;
  valueAt: (c: FeatureInput, t: number) => number;
}

/**
 * Bars plus their one-bar log returns, computed once per series instead of once per window row
 * (vol_{n} would otherwise take n logarithms per row). Each return depends on two bars only, so a
 * serving window yields the same values as the full training series.
 */
export interface FeatureInput extends BarColumns {
  /** ln(close[t] / close[t-1]); NaN at t = 0. */
  logReturn1: Float64Array;
}

/** Fills input.logReturn1 from input.close. */
function fillLogReturns(input: FeatureInput): void {
  const { logReturn1 } = input;
  logReturn1[0] = Number.NaN;
  for (let t = 1; t < input.length; t++) logReturn1[t] = logReturn(input, t, 1);
}

function featureInput(cols: BarColumns): FeatureInput {
  const input = { ...cols, logReturn1: new Float64Array(cols.length) };
  fillLogReturns(input);
  return input;
}

function mean(xs: Float64Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i <= to; i++) sum += xs[i] as number;
  return sum / (to - from + 1);
}

/** Sample standard deviation (ddof 1) of xs[from..to] inclusive around its `mean`: two-pass, for accuracy. */
function sampleStd(xs: Float64Array, from: number, to: number, m = mean(xs, from, to)): number {
  let ss = 0;
  for (let i = from; i <= to; i++) {
    const d = (xs[i] as number) - m;
    ss += d * d;
  }
  return Math.sqrt(ss / (to - from));
}

/** z-score of xs[t] against the window xs[t-n+1..t]; 0 when the window is flat. */
function windowZ(xs: Float64Array, t: number, n: number): number {
  const from = t - n + 1;
  const m = mean(xs, from, t);
  const sd = sampleStd(xs, from, t, m);
  return sd === 0 ? 0 : ((xs[t] as number) - m) / sd;
}

function logReturn(c: BarColumns, t: number, k: number): number {
  return Math.log((c.close[t] as number) / (c.close[t - k] as number));
}

function checkMin(name: string, value: number, min: number): void {
  if (value < min) throw new Error(`${name} must be >= ${min}`);
}

export const FEATURE_FAMILIES: readonly FeatureFamily[] = [
  {
    form: "ret_{k}",
    pattern: /^ret_(\d+)$/,
    description: "log return over k bars: ln(close[t] / close[t-k])",
    build: ([k = 0]) => {
      checkMin("k", k, 1);
      return { window: k + 1, valueAt: (c, t) => logReturn(c, t, k) };
    },
  },
  {
    form: "vol_{n}",
    pattern: /^vol_(\d+)$/,
    description: "rolling volatility: sample std of the last n one-bar log returns",
    build: ([n = 0]) => {
      checkMin("n", n, 2);
      return { window: n + 1, valueAt: (c, t) => sampleStd(c.logReturn1, t - n + 1, t) };
    },
  },
  {
    form: "sma_ratio_{a}_{b}",
    pattern: /^sma_ratio_(\d+)_(\d+)$/,
    description: "trend: SMA of close over a bars / SMA over b bars - 1 (a < b)",
    build: ([a = 0, b = 0]) => {
      checkMin("a", a, 1);
      if (b <= a) throw new Error("b must be greater than a");
      return {
        window: b,
        valueAt: (c, t) => mean(c.close, t - a + 1, t) / mean(c.close, t - b + 1, t) - 1,
      };
    },
  },
  {
    form: "zscore_{n}",
    pattern: /^zscore_(\d+)$/,
    description: "mean reversion: (close - SMA_n) / sample std of close over n bars; 0 when flat",
    build: ([n = 0]) => {
      checkMin("n", n, 2);
      return { window: n, valueAt: (c, t) => windowZ(c.close, t, n) };
    },
  },
  {
    form: "rsi_{n}",
    pattern: /^rsi_(\d+)$/,
    description:
      "relative strength index over the last n close changes, simple averages (Cutler), 0..100; 50 when flat",
    build: ([n = 0]) => {
      checkMin("n", n, 1);
      return {
        window: n + 1,
        valueAt: (c, t) => {
          let up = 0;
          let down = 0;
          for (let i = t - n + 1; i <= t; i++) {
            const d = (c.close[i] as number) - (c.close[i - 1] as number);
            if (d > 0) up += d;
            else down -= d;
          }
          return up + down === 0 ? 50 : (100 * up) / (up + down);
        },
      };
    },
  },
  {
    form: "atr_{n}",
    pattern: /^atr_(\d+)$/,
    description: "average true range over n bars divided by close",
    build: ([n = 0]) => {
      checkMin("n", n, 1);
      return {
        window: n + 1,
        valueAt: (c, t) => {
          let sum = 0;
          for (let i = t - n + 1; i <= t; i++) {
            const prev = c.close[i - 1] as number;
            sum += Math.max(c.high[i] as number, prev) - Math.min(c.low[i] as number, prev);
          }
          return sum / n / (c.close[t] as number);
        },
      };
    },
  },
  {
    form: "hl_range",
    pattern: /^hl_range$/,
    description: "high-low range of the current bar divided by close",
    build: () => ({
      window: 1,
      valueAt: (c, t) => ((c.high[t] as number) - (c.low[t] as number)) / (c.close[t] as number),
    }),
  },
  {
    form: "hl_range_{n}",
    pattern: /^hl_range_(\d+)$/,
    description: "mean of (high - low) / close over n bars",
    build: ([n = 0]) => {
      checkMin("n", n, 1);
      return {
        window: n,
        valueAt: (c, t) => {
          let sum = 0;
          for (let i = t - n + 1; i <= t; i++) {
            sum += ((c.high[i] as number) - (c.low[i] as number)) / (c.close[i] as number);
          }
          return sum / n;
        },
      };
    },
  },
  {
    form: "range_pos_{n}",
    pattern: /^range_pos_(\d+)$/,
    description:
      "stochastic %K: (close - lowest low) / (highest high - lowest low) over n bars, 0..1; 0.5 when flat",
    build: ([n = 0]) => {
      checkMin("n", n, 1);
      return {
        window: n,
        valueAt: (c, t) => {
          let lo = Number.POSITIVE_INFINITY;
          let hi = Number.NEGATIVE_INFINITY;
          for (let i = t - n + 1; i <= t; i++) {
            lo = Math.min(lo, c.low[i] as number);
            hi = Math.max(hi, c.high[i] as number);
          }
          return hi === lo ? 0.5 : ((c.close[t] as number) - lo) / (hi - lo);
        },
      };
    },
  },
  {
    form: "volume_z_{n}",
    pattern: /^volume_z_(\d+)$/,
    description: "volume z-score: (volume - mean) / sample std of volume over n bars; 0 when flat",
    build: ([n = 0]) => {
      checkMin("n", n, 2);
      return { window: n, valueAt: (c, t) => windowZ(c.volume, t, n) };
    },
  },
];

const VALID_FORMS = FEATURE_FAMILIES.map((f) => f.form).join(", ");

/** Parses a feature name such as `sma_ratio_5_20`; throws FeatureError naming it and the valid forms. */
export function parseFeatureName(name: string): ParsedFeature {
  for (const family of FEATURE_FAMILIES) {
    const m = family.pattern.exec(name);
    if (!m) continue;
    const params = m.slice(1).map(Number);
    try {
      return { name, family: family.form, params, ...family.build(params) };
    } catch (err) {
      throw new FeatureError(`feature "${name}": ${(err as Error).message} (form ${family.form})`);
    }
  }
  throw new FeatureError(`unknown feature "${name}"; valid forms: ${VALID_FORMS}`);
}

function parseAll(names: readonly string[]): ParsedFeature[] {
  return names.map(parseFeatureName);
}

function longestWindow(features: readonly ParsedFeature[]): number {
  return features.reduce((max, f) => Math.max(max, f.window), 1);
}

/** Bars one feature row needs, the current bar included: the longest window among `names`. */
export function lookback(names: readonly string[]): number {
  return longestWindow(parseAll(names));
}

/**
 * Feature columns for every row. Row t of a feature is NaN until the feature's window is full;
 * `firstValidRow` is the first row where every feature has a value.
 */
export function computeFeatures(
  cols: BarColumns,
  names: readonly string[],
): { columns: Float64Array[]; firstValidRow: number } {
  const features = parseAll(names);
  const input = featureInput(cols);
  const columns = features.map((f) => {
    const out = new Float64Array(cols.length).fill(Number.NaN);
    for (let t = f.window - 1; t < cols.length; t++) out[t] = f.valueAt(input, t);
    return out;
  });
  const firstValidRow = longestWindow(features) - 1;
  return { columns, firstValidRow };
}

/**
 * Feature rows from windows of raw bars, as serving computes them: the names are parsed once, and
 * every row reuses one scratch window of `lookback` bars, so a row costs the kernels and nothing
 * else. One row at a time: serving decodes a request synchronously, start to end.
 */
export class FeatureWindow {
  readonly features: readonly ParsedFeature[];
  /** Bars a row needs, the current one included: the longest window among the features. */
  readonly lookback: number;
  readonly #input: FeatureInput;

  /** Throws FeatureError for a name that is not a feature. */
  constructor(names: readonly string[]) {
    this.features = parseAll(names);
    this.lookback = longestWindow(this.features);
    this.#input = { ...emptyColumns(this.lookback), logReturn1: new Float64Array(this.lookback) };
  }

  /**
   * Writes the features of the last bar of `bars` (oldest first) into out[0, features). Throws
   * FeatureError when the window is too short or a value is not finite.
   */
  rowInto(bars: readonly Bar[], out: Float64Array | number[]): void {
    const needed = this.lookback;
    if (bars.length < needed) {
      throw new FeatureError(
        `features need a window of at least ${needed} bars (the current one included); got ${bars.length}`,
      );
    }
    const input = this.#input;
    fillColumns(bars, bars.length - needed, input);
    fillLogReturns(input);
    const t = needed - 1;
    const features = this.features;
    for (let i = 0; i < features.length; i++) {
      const f = features[i] as ParsedFeature;
      const v = f.valueAt(input, t);
      if (!Number.isFinite(v)) {
        throw new FeatureError(
          `feature "${f.name}" is not finite for these bars (prices must be > 0 and finite)`,
        );
      }
      out[i] = v;
    }
  }
}

/** Features for the last bar of `bars` (oldest first); see FeatureWindow. */
export function featureRowFromBars(bars: readonly Bar[], names: readonly string[]): number[] {
  const window = new FeatureWindow(names);
  const row = new Array<number>(window.features.length);
  window.rowInto(bars, row);
  return row;
}

/** Training target: log return from close[t] to close[t + horizon]; NaN for the last `horizon` rows. */
export function forwardReturn(cols: BarColumns, horizon: number): Float64Array {
  if (!Number.isInteger(horizon) || horizon < 1) {
    throw new FeatureError(`target horizon must be an integer >= 1, got ${horizon}`);
  }
  const out = new Float64Array(cols.length).fill(Number.NaN);
  for (let t = 0; t + horizon < cols.length; t++) {
    out[t] = Math.log((cols.close[t + horizon] as number) / (cols.close[t] as number));
  }
  return out;
}

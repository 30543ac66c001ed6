/** One OHLCV bar. `ts` is epoch milliseconds; bars are strictly increasing in `ts`. */
export interface Bar {
  ts: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
}

/**
 * Bars held column-wise: the trainer handles millions of rows, and typed arrays keep that in
 * tens of megabytes instead of millions of objects.
 */
export interface BarColumns {
  length: number;
  ts: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
}

export const BAR_FIELDS = ["ts", "open", "high", "low", "close", "volume"] as const;
export type BarField = (typeof BAR_FIELDS)[number];

/*
 * The rules a bar obeys, checked by training (every CSV row) and serving (every bar of a window)
 * alike: prices > 0, high the highest price and low the lowest, volume >= 0. `isSoundBar` is the
 * one test per bar on the hot path; `barProblems` words what is wrong only when it fails. Both take
 * finite values: callers check finiteness first, with their own policy.
 */

export function isSoundBar(open: number, high: number, low: number, close: number, volume: number): boolean {
  return (
    open > 0 &&
    close > 0 &&
    low > 0 &&
    high >= open &&
    high >= close &&
    low <= open &&
    low <= close &&
    volume >= 0
  );
}

/** A broken rule: the column at fault and a message that reads after its name. */
export interface BarProblem {
  column: BarField;
  message: string;
}

/** Every rule the bar breaks, in column order of the checks; empty for a sound bar. */
export function barProblems(
  open: number,
  high: number,
  low: number,
  close: number,
  volume: number,
): BarProblem[] {
  const problems: BarProblem[] = [];
  const prices = { open, high, low, close };
  for (const column of ["open", "high", "low", "close"] as const) {
    if (prices[column] <= 0) problems.push({ column, message: `must be > 0, got ${prices[column]}` });
  }
  if (high < low) problems.push({ column: "high", message: `must be >= low (${high} < ${low})` });
  else if (high < Math.max(open, close)) {
    problems.push({
      column: "high",
      message: `must be >= open and close (${high} < ${Math.max(open, close)})`,
    });
  } else if (low > Math.min(open, close)) {
    problems.push({
      column: "low",
      message: `must be <= open and close (${low} > ${Math.min(open, close)})`,
    });
  }
  if (volume < 0) problems.push({ column: "volume", message: `must be >= 0, got ${volume}` });
  return problems;
}

/** Zero-filled columns for `length` bars. */
export function emptyColumns(length: number): BarColumns {
  return {
    length,
    ts: new Float64Array(length),
    open: new Float64Array(length),
    high: new Float64Array(length),
    low: new Float64Array(length),
    close: new Float64Array(length),
    volume: new Float64Array(length),
  };
}

/** Writes bars[from, from + cols.length) into `cols`, row 0 first. */
export function fillColumns(bars: readonly Bar[], from: number, cols: BarColumns): void {
  for (let i = 0; i < cols.length; i++) {
    const b = bars[from + i] as Bar;
    cols.ts[i] = b.ts;
    cols.open[i] = b.open;
    cols.high[i] = b.high;
    cols.low[i] = b.low;
    cols.close[i] = b.close;
    cols.volume[i] = b.volume;
  }
}

export function columnsFromBars(bars: readonly Bar[]): BarColumns {
  const cols = emptyColumns(bars.length);
  fillColumns(bars, 0, cols);
  return cols;
}

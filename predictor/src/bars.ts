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

export function columnsFromBars(bars: readonly Bar[]): BarColumns {
  const n = bars.length;
  const cols = emptyColumns(n);
  for (let i = 0; i < n; i++) {
    const b = bars[i] as Bar;
    cols.ts[i] = b.ts;
    cols.open[i] = b.open;
    cols.high[i] = b.high;
    cols.low[i] = b.low;
    cols.close[i] = b.close;
    cols.volume[i] = b.volume;
  }
  return cols;
}

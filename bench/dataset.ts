/**
 * The benchmarks' data: seeded synthetic bars (the project's own generator), the features the
 * predictor computes from them, and the forward-return target. Also the two files the Python
 * baselines read: the in-memory training matrix as raw float64 and the bars as CSV.
 */
import { once } from "node:events";
import { createWriteStream } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { finished } from "node:stream/promises";
import type { BarColumns } from "../predictor/src/bars.ts";
import { generateBars } from "../predictor/src/data/synthetic.ts";
import { computeFeatures, forwardReturn, lookback } from "../predictor/src/features.ts";

/** Six features a quant would start from: momentum, volatility, trend, mean reversion, RSI. */
export const BENCH_FEATURES = ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20", "zscore_20", "rsi_14"] as const;
export const BENCH_HORIZON = 5;
export const BENCH_SEED = 20_240_101;

export interface Dataset {
  features: readonly string[];
  /** One column per feature, then the target; all `rows` long, every value finite. */
  columns: Float64Array[];
  target: Float64Array;
  rows: number;
}

/** Bars for exactly `rows` complete rows: the features' warm-up and the target's horizon added. */
export function benchBars(rows: number): BarColumns {
  const warmup = lookback(BENCH_FEATURES) - 1;
  return generateBars({ seed: BENCH_SEED, bars: warmup + rows + BENCH_HORIZON, regime: "mixed" });
}

/** The complete rows of `bars`: the warm-up (feature windows) and tail (horizon) cut off. */
export function makeDataset(bars: BarColumns): Dataset {
  const warmup = lookback(BENCH_FEATURES) - 1;
  const rows = bars.length - warmup - BENCH_HORIZON;
  const { columns } = computeFeatures(bars, BENCH_FEATURES);
  const target = forwardReturn(bars, BENCH_HORIZON).slice(warmup, warmup + rows);
  return {
    features: BENCH_FEATURES,
    columns: columns.map((c) => c.slice(warmup, warmup + rows)),
    target,
    rows,
  };
}

/** Row i of the feature columns, in feature order. */
export function featureRow(data: Dataset, i: number): number[] {
  return data.columns.map((c) => c[i] as number);
}

/** float64 little-endian, column-major: every feature column, then the target. */
export async function writeMatrix(path: string, data: Dataset): Promise<void> {
  const all = new Float64Array(data.rows * (data.columns.length + 1));
  data.columns.forEach((c, j) => {
    all.set(c, j * data.rows);
  });
  all.set(data.target, data.columns.length * data.rows);
  await writeFile(path, new Uint8Array(all.buffer));
}

/** Reads a matrix written by writeMatrix back into column views (no copy per column). */
export async function readMatrix(path: string, rows: number, features: number): Promise<Float64Array[]> {
  const bytes = await readFile(path);
  const expected = rows * (features + 1) * 8;
  if (bytes.byteLength !== expected) throw new Error(`${path}: ${bytes.byteLength} bytes, want ${expected}`);
  const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return Array.from({ length: features + 1 }, (_, j) => all.subarray(j * rows, (j + 1) * rows));
}

/** Bars as the CSV `predictor train` reads (ts in epoch ms); numbers in shortest round-trip form. */
export async function writeBarsCsv(path: string, bars: BarColumns): Promise<void> {
  const out = createWriteStream(path);
  const chunk: string[] = ["ts,open,high,low,close,volume\n"];
  for (let i = 0; i < bars.length; i++) {
    chunk.push(
      `${bars.ts[i]},${bars.open[i]},${bars.high[i]},${bars.low[i]},${bars.close[i]},${bars.volume[i]}\n`,
    );
    if (chunk.length >= 10_000) {
      if (!out.write(chunk.join(""))) await once(out, "drain");
      chunk.length = 0;
    }
  }
  out.end(chunk.join(""));
  await finished(out);
}

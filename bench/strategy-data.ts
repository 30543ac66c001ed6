/**
 * The data of the strategy benchmark, shared by the project's runner and the numpy baseline: one
 * float64 little-endian file holding, in order, close (n + 1), ts (n + 1), predictions (n),
 * targets (n), then two strategies' per-bar returns a (m) and b (m) for the comparison.
 */
import { readFile, writeFile } from "node:fs/promises";
import { seededNormals } from "../predictor/src/data/synthetic.ts";

export interface StrategyData {
  close: Float64Array;
  ts: Float64Array;
  predictions: Float64Array;
  targets: Float64Array;
  a: Float64Array;
  b: Float64Array;
}

const lengths = (n: number, m: number) => [n + 1, n + 1, n, n, m, m];

/** A market whose next-bar return is a weak known signal plus noise, and two autocorrelated return series. */
export function makeStrategyData(n: number, m: number, seed: number): StrategyData {
  const normal = seededNormals(seed);
  const close = new Float64Array(n + 1);
  const ts = new Float64Array(n + 1);
  const predictions = new Float64Array(n);
  const targets = new Float64Array(n);
  close[0] = 100;
  let signal = 0;
  for (let t = 0; t < n; t++) {
    signal = 0.95 * signal + 0.0001 * normal();
    const next = signal + 0.001 * normal();
    predictions[t] = signal + 0.0002 * normal();
    targets[t] = next;
    close[t + 1] = (close[t] as number) * (1 + next);
    ts[t + 1] = (t + 1) * 60_000;
  }
  const a = new Float64Array(m);
  const b = new Float64Array(m);
  let x = 0;
  let y = 0;
  for (let t = 0; t < m; t++) {
    x = 0.5 * x + 0.001 * normal();
    y = 0.5 * y + 0.001 * normal();
    a[t] = x;
    b[t] = y;
  }
  return { close, ts, predictions, targets, a, b };
}

export async function writeStrategyData(path: string, data: StrategyData): Promise<void> {
  const parts = [data.close, data.ts, data.predictions, data.targets, data.a, data.b];
  const all = new Float64Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const part of parts) {
    all.set(part, at);
    at += part.length;
  }
  await writeFile(path, new Uint8Array(all.buffer));
}

export async function readStrategyData(path: string, n: number, m: number): Promise<StrategyData> {
  const bytes = await readFile(path);
  const sizes = lengths(n, m);
  const expected = sizes.reduce((s, l) => s + l, 0) * 8;
  if (bytes.byteLength !== expected) throw new Error(`${path}: ${bytes.byteLength} bytes, want ${expected}`);
  const all = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  let at = 0;
  const [close, ts, predictions, targets, a, b] = sizes.map((l) => {
    const part = all.subarray(at, at + l);
    at += l;
    return part;
  }) as [Float64Array, Float64Array, Float64Array, Float64Array, Float64Array, Float64Array];
  return { close, ts, predictions, targets, a, b };
}

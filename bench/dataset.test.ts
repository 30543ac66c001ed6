import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { columnsFromBars } from "../predictor/src/bars.ts";
import { parseCsvBars } from "../predictor/src/data/csv.ts";
import {
  BENCH_FEATURES,
  benchBars,
  featureRow,
  makeDataset,
  readMatrix,
  writeBarsCsv,
  writeMatrix,
} from "./dataset.ts";

const dir = await mkdtemp(join(tmpdir(), "bench-dataset-"));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe("makeDataset", () => {
  it("gives exactly the rows asked for, every feature and target value finite", () => {
    const data = makeDataset(benchBars(500));
    expect(data.features).toEqual(BENCH_FEATURES);
    expect(data.columns).toHaveLength(BENCH_FEATURES.length);
    for (const column of [...data.columns, data.target]) {
      expect(column).toHaveLength(500);
      expect(column.every(Number.isFinite)).toBe(true);
    }
    expect(featureRow(data, 3)).toEqual(data.columns.map((c) => c[3]));
  });
  it("is the same on every run (seeded)", () => {
    expect(makeDataset(benchBars(50)).target).toEqual(makeDataset(benchBars(50)).target);
  });
});

describe("matrix file", () => {
  it("reads back the columns and the target written", async () => {
    const data = makeDataset(benchBars(100));
    const path = join(dir, "m.bin");
    await writeMatrix(path, data);
    const columns = await readMatrix(path, 100, BENCH_FEATURES.length);
    expect(columns.slice(0, -1)).toEqual(data.columns);
    expect(columns.at(-1)).toEqual(data.target);
    await expect(readMatrix(path, 101, BENCH_FEATURES.length)).rejects.toThrow(/5600 bytes, want 5656/);
  });
});

describe("bars CSV", () => {
  it("is read by the predictor's CSV parser into the same bars, bit for bit", async () => {
    const bars = columnsFromBars([
      { ts: 1_704_067_200_000, open: 100.06994771960399, high: 100.3, low: 99.9, close: 100.1, volume: 1223 },
      { ts: 1_704_067_260_000, open: 100.1, high: 100.2, low: 0.1 + 0.2, close: 1e-7, volume: 0 },
    ]);
    const path = join(dir, "bars.csv");
    await writeBarsCsv(path, bars);
    const parsed = parseCsvBars(await readFile(path));
    expect(parsed.issueCount).toBe(0);
    expect(parsed.columns).toEqual(bars);
  });
});

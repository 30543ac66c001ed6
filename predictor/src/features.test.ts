import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type Bar, type BarColumns, columnsFromBars } from "./bars.ts";
import { generateBars } from "./data/synthetic.ts";
import {
  computeFeatures,
  FEATURE_FAMILIES,
  FeatureError,
  FeatureWindow,
  featureRowFromBars,
  forwardReturn,
  lookback,
  parseFeatureName,
} from "./features.ts";

const ALL = [
  "ret_1",
  "ret_5",
  "vol_10",
  "sma_ratio_3_12",
  "zscore_8",
  "rsi_6",
  "atr_5",
  "hl_range",
  "hl_range_4",
  "range_pos_7",
  "volume_z_9",
];

function barsOf(cols: BarColumns): Bar[] {
  return Array.from({ length: cols.length }, (_, i) => ({
    ts: cols.ts[i] as number,
    open: cols.open[i] as number,
    high: cols.high[i] as number,
    low: cols.low[i] as number,
    close: cols.close[i] as number,
    volume: cols.volume[i] as number,
  }));
}

/** Bars with the given closes; open = previous close, high/low 1% around, volume as given. */
function fromCloses(closes: number[], volumes?: number[]): BarColumns {
  return columnsFromBars(
    closes.map((close, i) => {
      const open = i === 0 ? close : (closes[i - 1] as number);
      return {
        ts: i * 60_000,
        open,
        high: Math.max(open, close) * 1.01,
        low: Math.min(open, close) * 0.99,
        close,
        volume: volumes?.[i] ?? 100,
      };
    }),
  );
}

describe("parseFeatureName", () => {
  it("parses every documented family", () => {
    for (const name of ALL) expect(parseFeatureName(name).name).toBe(name);
    expect(parseFeatureName("sma_ratio_5_20")).toMatchObject({
      family: "sma_ratio_{a}_{b}",
      params: [5, 20],
      window: 20,
    });
  });

  it("names the feature and lists the valid forms for an unknown name", () => {
    expect(() => parseFeatureName("macd_12")).toThrow(FeatureError);
    expect(() => parseFeatureName("macd_12")).toThrow(
      /unknown feature "macd_12"; valid forms: ret_\{k\}, vol_\{n\}/,
    );
  });

  it("rejects bad parameters naming the feature and its form", () => {
    expect(() => parseFeatureName("ret_0")).toThrow('feature "ret_0": k must be >= 1 (form ret_{k})');
    expect(() => parseFeatureName("sma_ratio_20_5")).toThrow(/sma_ratio_20_5.*b must be greater than a/);
    expect(() => parseFeatureName("vol_1")).toThrow(/vol_1.*n must be >= 2/);
  });
});

describe("lookback", () => {
  it("is the longest window, the current bar included", () => {
    expect(lookback(["hl_range"])).toBe(1);
    expect(lookback(["ret_5"])).toBe(6);
    expect(lookback(["ret_5", "sma_ratio_5_20", "vol_20"])).toBe(21);
  });
});

describe("feature values", () => {
  it("match hand computations", () => {
    const cols = fromCloses([100, 110, 99, 104.5, 104.5], [10, 20, 30, 40, 10]);
    const { columns, firstValidRow } = computeFeatures(cols, [
      "ret_1",
      "ret_2",
      "rsi_3",
      "zscore_3",
      "sma_ratio_1_2",
      "volume_z_3",
      "range_pos_2",
      "hl_range",
    ]);
    expect(firstValidRow).toBe(3);
    const at = (f: number, t: number) => columns[f]?.[t];
    expect(at(0, 1)).toBeCloseTo(Math.log(1.1), 15);
    expect(at(1, 2)).toBeCloseTo(Math.log(0.99), 15);
    // changes over bars 2..4: -11, +5.5, 0 -> up 5.5, down 11
    expect(at(2, 4)).toBeCloseTo((100 * 5.5) / 16.5, 12);
    // closes 99, 104.5, 104.5: mean 102.666.., sample std 3.1754..
    const m = (99 + 104.5 + 104.5) / 3;
    const sd = Math.sqrt(((99 - m) ** 2 + 2 * (104.5 - m) ** 2) / 2);
    expect(at(3, 4)).toBeCloseTo((104.5 - m) / sd, 12);
    expect(at(4, 1)).toBeCloseTo(110 / 105 - 1, 15);
    // volumes 20, 30, 40 at t=3: z = (40 - 30) / 10
    expect(at(5, 3)).toBeCloseTo(1, 12);
    // t=2: low 99*0.99, high 110*1.01 across bars 1..2
    expect(at(6, 2)).toBeCloseTo((99 - 99 * 0.99) / (110 * 1.01 - 99 * 0.99), 12);
    expect(at(7, 1)).toBeCloseTo((110 * 1.01 - 100 * 0.99) / 110, 12);
    expect(Number.isNaN(at(0, 0) as number)).toBe(true);
  });

  it("computes volatility, true range and mean range by hand", () => {
    const cols = fromCloses([100, 102, 101, 104]);
    const { columns } = computeFeatures(cols, ["vol_3", "atr_2", "hl_range_2"]);
    const r: [number, number, number] = [Math.log(1.02), Math.log(101 / 102), Math.log(104 / 101)];
    const m = (r[0] + r[1] + r[2]) / 3;
    expect(columns[0]?.[3]).toBeCloseTo(Math.sqrt(r.reduce((s, x) => s + (x - m) ** 2, 0) / 2), 15);
    // bars 2 and 3: high = max(open, close) * 1.01, low = min(open, close) * 0.99, open = previous close
    const trueRange2 = Math.max(102 * 1.01, 102) - Math.min(101 * 0.99, 102);
    const trueRange3 = Math.max(104 * 1.01, 101) - Math.min(101 * 0.99, 101);
    expect(columns[1]?.[3]).toBeCloseTo((trueRange2 + trueRange3) / 2 / 104, 15);
    const range = (h: number, l: number, c: number) => (h - l) / c;
    expect(columns[2]?.[3]).toBeCloseTo(
      (range(102 * 1.01, 101 * 0.99, 101) + range(104 * 1.01, 101 * 0.99, 104)) / 2,
      15,
    );
  });

  it("uses neutral values when the window is flat", () => {
    const cols = fromCloses([50, 50, 50, 50], [7, 7, 7, 7]);
    const { columns } = computeFeatures(cols, ["rsi_3", "zscore_3", "volume_z_3", "vol_3"]);
    expect(columns.map((c) => c[3])).toEqual([50, 0, 0, 0]);
  });
});

describe("point in time", () => {
  const base = generateBars({ seed: 11, bars: 160 });

  it("changing bars after t never changes features at or before t", () => {
    const before = computeFeatures(base, ALL).columns;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 158 }),
        fc.double({ min: 0.5, max: 2, noNaN: true }),
        (t, factor) => {
          const changed: BarColumns = { ...base };
          for (const f of ["open", "high", "low", "close", "volume"] as const) {
            changed[f] = base[f].slice();
            for (let i = t + 1; i < base.length; i++) changed[f][i] = (base[f][i] as number) * factor;
          }
          const after = computeFeatures(changed, ALL).columns;
          for (let f = 0; f < ALL.length; f++) {
            expect(Array.from(after[f]?.subarray(0, t + 1) ?? [])).toEqual(
              Array.from(before[f]?.subarray(0, t + 1) ?? []),
            );
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  it("a serving window equals the computeFeatures row exactly, for a minimal and a long window, row after row", () => {
    const bars = barsOf(base);
    const { columns, firstValidRow } = computeFeatures(base, ALL);
    const window = new FeatureWindow(ALL);
    expect(window.lookback).toBe(lookback(ALL));
    expect(firstValidRow).toBe(window.lookback - 1);
    const row = new Float64Array(ALL.length);
    for (let t = firstValidRow; t < base.length; t++) {
      const expected = Float64Array.from(columns, (c) => c[t] as number);
      window.rowInto(bars.slice(t + 1 - window.lookback, t + 1), row);
      expect(row).toEqual(expected);
      window.rowInto(bars.slice(0, t + 1), row);
      expect(row).toEqual(expected);
      expect(featureRowFromBars(bars.slice(0, t + 1), ALL)).toEqual([...expected]);
    }
  });

  it("featureRowFromBars says how many bars it needs", () => {
    const bars = barsOf(base).slice(0, 12);
    expect(() => featureRowFromBars(bars, ["ret_1", "vol_20"])).toThrow(
      "features need a window of at least 21 bars (the current one included); got 12",
    );
  });

  it("featureRowFromBars rejects bars that give a non-finite feature, naming it", () => {
    const bars = barsOf(base).slice(0, 3);
    (bars[0] as Bar).close = 0;
    expect(() => featureRowFromBars(bars, ["hl_range", "ret_2"])).toThrow(/feature "ret_2" is not finite/);
  });
});

describe("forwardReturn", () => {
  it("is the log return h bars ahead and NaN where the future is unknown", () => {
    const cols = fromCloses([100, 101, 103, 102]);
    const y = forwardReturn(cols, 2);
    expect(y[0]).toBeCloseTo(Math.log(1.03), 15);
    expect(y[1]).toBeCloseTo(Math.log(102 / 101), 15);
    expect(Number.isNaN(y[2] as number) && Number.isNaN(y[3] as number)).toBe(true);
    expect(() => forwardReturn(cols, 0)).toThrow(/horizon must be an integer >= 1/);
  });
});

it("every family has a form, a description and a pattern that accepts its example", () => {
  for (const f of FEATURE_FAMILIES) {
    const example = f.form
      .replace("{a}", "2")
      .replace("{b}", "3")
      .replace(/\{[kn]\}/, "4");
    expect(parseFeatureName(example).family).toBe(f.form);
    expect(f.description.length).toBeGreaterThan(10);
  }
});

import { describe, expect, it } from "vitest";
import { parseCsvBars } from "./csv.ts";
import { DataValidationError, validateBars } from "./validate.ts";

const HEADER = "ts,open,high,low,close,volume";
/** Minute bars from 2024-01-01T00:00Z: minute(2) is 00:02. */
const minute = (m: number) => Date.UTC(2024, 0, 1, 0, m);
const row = (
  ts: number,
  close = 100,
  extra: Partial<Record<"open" | "high" | "low" | "volume", string>> = {},
) =>
  `${ts},${extra.open ?? close},${extra.high ?? close + 1},${extra.low ?? close - 1},${close},${extra.volume ?? 10}`;

function check(lines: string[], opts = {}) {
  return validateBars(parseCsvBars([HEADER, ...lines].join("\n")), opts);
}

function problemsOf(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(DataValidationError);
    return (err as DataValidationError).problems;
  }
  throw new Error("expected a DataValidationError");
}

describe("validateBars", () => {
  it("passes clean bars through with an empty report", () => {
    const { columns, report } = check([row(minute(1)), row(minute(2))]);
    expect(columns.length).toBe(2);
    expect(report).toEqual({ rows: 2, droppedRows: 0, reasons: {}, ignoredColumns: [] });
  });

  it("names missing columns", () => {
    const raw = parseCsvBars("time,open,close\n1,2,3\n");
    expect(problemsOf(() => validateBars(raw))).toEqual([
      'missing column(s) "high", "low", "volume"; need ts (or timestamp, time, date), open, high, low, close, volume',
    ]);
  });

  it("names row and column of non-numeric cells", () => {
    expect(problemsOf(() => check([row(minute(1)), `${minute(2)},1,2,0.5,abc,10`]))).toEqual([
      'row 2, column "close": "abc" is not a number',
    ]);
  });

  it("rejects non-finite values by default, naming row, column and the policy", () => {
    expect(
      problemsOf(() => check([row(minute(1)), `${minute(2)},1,2,0.5,NaN,10`, `${minute(3)},1,inf,0.5,1,10`])),
    ).toEqual([
      'row 2, column "close": NaN is not finite (nonFinite policy "reject"; "drop" drops such rows)',
      'row 3, column "high": Infinity is not finite (nonFinite policy "reject"; "drop" drops such rows)',
    ]);
  });

  it("drops non-finite rows under policy drop and reports the count per reason", () => {
    const { columns, report } = check(
      [row(minute(1)), `${minute(2)},1,2,0.5,,10`, row(minute(3)), `${minute(4)},1,2,0.5,nan,`],
      {
        nonFinite: "drop",
      },
    );
    expect(Array.from(columns.ts)).toEqual([minute(1), minute(3)]);
    expect(report).toMatchObject({
      rows: 2,
      droppedRows: 2,
      reasons: { "non-finite close": 2, "non-finite volume": 1 },
    });
  });

  it("rejects unsorted and duplicate timestamps naming both rows, with original row numbers after drops", () => {
    const problems = problemsOf(() =>
      check([row(minute(1)), `${minute(2)},1,2,0.5,nan,1`, row(minute(3)), row(minute(2)), row(minute(2))], {
        nonFinite: "drop",
      }),
    );
    expect(problems).toEqual([
      'row 4, column "ts": timestamps not ascending: 2024-01-01T00:02:00.000Z comes after 2024-01-01T00:03:00.000Z (row 3)',
      'row 5, column "ts": duplicate timestamp 2024-01-01T00:02:00.000Z (also row 4)',
    ]);
  });

  it("rejects inconsistent bars", () => {
    expect(
      problemsOf(() =>
        check([
          row(minute(1), 100, { high: "98" }),
          row(minute(2), 100, { low: "100.5" }),
          row(minute(3), 100, { volume: "-1" }),
          row(minute(4), 0),
        ]),
      ),
    ).toEqual([
      'row 1, column "high": must be >= low (98 < 99)',
      'row 2, column "low": must be <= open and close (100.5 > 100)',
      'row 3, column "volume": must be >= 0, got -1',
      'row 4, column "open": must be > 0, got 0',
      'row 4, column "low": must be > 0, got -1',
      'row 4, column "close": must be > 0, got 0',
    ]);
  });

  it("rejects too few rows and caps the list of problems", () => {
    expect(problemsOf(() => check([row(minute(1))], { minRows: 5 }))).toEqual([
      "too few rows: 1; need at least 5",
    ]);
    const many = Array.from({ length: 12 }, (_, i) => `${minute(i)},1,1,1,x,1`);
    const problems = problemsOf(() => check(many));
    expect(problems).toHaveLength(9);
    expect(problems[8]).toBe("and 4 more");
  });
});

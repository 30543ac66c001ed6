import { describe, expect, it } from "vitest";
import {
  correctnessCheck,
  type Figure,
  failedChecks,
  formatNumber,
  formatTable,
  type Goal,
  summaryRow,
} from "./summary.ts";

/** The summary row of a figure of `value` in `unit`, against `baseline` when given. */
function row(value: number, unit: string, better: Figure["better"], goal?: Goal, baseline?: number) {
  return summaryRow({
    name: "figure",
    value,
    unit,
    better,
    ...(baseline === undefined ? {} : { baseline: { name: "base", value: baseline } }),
    ...(goal ? { goal } : {}),
  });
}

describe("summaryRow", () => {
  it("orients the ratio so that above 1 means ours is better, for throughput and for time", () => {
    const rps = row(24_000, "req/s", "higher", { ratioAtLeast: 12 }, 1_500);
    expect(rps.ratio).toBe(16);
    expect(rps.met).toBe(true);
    const fit = row(0.05, "s", "lower", { ratioAtLeast: 2 }, 0.08);
    expect(fit.ratio).toBeCloseTo(1.6, 12);
    expect(fit.met).toBe(false);
  });

  it("checks an absolute bound against the value in its own unit", () => {
    expect(row(2, "ms", "lower", { atMost: 2 })).toEqual({
      name: "figure",
      value: 2,
      unit: "ms",
      baseline: null,
      baselineValue: null,
      ratio: null,
      goal: "<= 2 ms",
      met: true,
    });
    expect(row(2.01, "ms", "lower", { atMost: 2 }).met).toBe(false);
  });

  it("checks a bound in times the baseline, and fails it without a baseline", () => {
    const p99 = (value: number, baseline?: number) =>
      row(value, "ms", "lower", { atMostTimesBaseline: 1.25 }, baseline);
    expect(p99(2.5, 2)).toMatchObject({ goal: "<= 1.25x baseline", ratio: 0.8, met: true });
    expect(p99(2.51, 2).met).toBe(false);
    expect(p99(1).met).toBe(false);
  });

  it("goes by the median of the rounds' own ratios when a figure has rounds, not by the ratio of the medians", () => {
    // Two rounds at a slow rate and one at a fast one: medians 2.0 against 1.0 ms, while in each
    // round's own pair the tail was at most 1.2x the baseline's.
    const p99 = {
      name: "p99 at half peak",
      value: 2.0,
      unit: "ms",
      better: "lower" as const,
      baseline: { name: "bare", value: 1.0 },
      rounds: [2.0 / 1.8, 1.2 / 1.0, 2.2 / 2.0],
      goal: { atMostTimesBaseline: 1.25 },
    };
    expect(summaryRow(p99)).toMatchObject({ value: 2, baselineValue: 1, met: true });
    expect(summaryRow(p99).ratio).toBeCloseTo(1 / 1.1111, 4);
    expect(summaryRow({ ...p99, rounds: [1.3, 1.26, 1.0] }).met).toBe(false);
    const rps = { ...p99, better: "higher" as const, goal: { ratioAtLeast: 0.9 }, rounds: [0.8, 0.95, 1.1] };
    expect(summaryRow(rps)).toMatchObject({ ratio: 0.95, met: true });
  });

  it("writes small bounds in exponent form and leaves out an empty unit", () => {
    expect(row(3e-13, "", "lower", { atMost: 1e-6 })).toMatchObject({ goal: "<= 1e-6", met: true });
  });

  it("leaves met null for a figure without a goal, and fails a ratio goal without a usable baseline", () => {
    expect(row(3, "s", "lower", undefined, 6)).toMatchObject({ ratio: 2, goal: null, met: null });
    expect(row(10, "req/s", "higher", { ratioAtLeast: 1 }, 0)).toMatchObject({
      ratio: null,
      goal: "ratio >= 1",
      met: false,
    });
  });

  it("fails an absolute goal on a NaN value", () => {
    expect(row(Number.NaN, "ms", "lower", { atMost: 1 }).met).toBe(false);
  });
});

describe("failedChecks", () => {
  it("names the correctness checks that were missed, not the missed speed goals", () => {
    expect(
      failedChecks([
        correctnessCheck("coefficients", 2e-6, 1e-6),
        correctnessCheck("predictions", 1e-15, 1e-6),
        { name: "p99", value: 9, unit: "ms", better: "lower", goal: { atMost: 2 } },
      ]),
    ).toEqual(["coefficients"]);
  });
});

describe("formatNumber", () => {
  it("keeps four significant digits and switches to exponent notation for tiny values", () => {
    expect(formatNumber(18734.56)).toBe("18735");
    expect(formatNumber(1.23456)).toBe("1.235");
    expect(formatNumber(0.0123456)).toBe("0.01235");
    expect(formatNumber(3.2e-9)).toBe("3.200e-9");
    expect(formatNumber(0)).toBe("0");
    expect(formatNumber(null)).toBe("-");
  });
});

describe("formatTable", () => {
  it("prints an aligned Markdown table with one line per row", () => {
    const table = formatTable([
      { ...row(20_000, "req/s", "higher", { ratioAtLeast: 12 }, 1_000), name: "rps" },
      { ...row(3, "ms", "lower", { atMost: 2 }), name: "p99 at half peak" },
    ]);
    const lines = table.split("\n");
    expect(lines).toHaveLength(4);
    expect(new Set(lines.map((l) => l.length)).size).toBe(1);
    expect(lines[0]).toMatch(
      /^\| figure +\| value +\| unit +\| baseline +\| baseline value \| ratio +\| goal +\| met \|$/,
    );
    expect(lines[1]).toMatch(/^\| -+ \| -+ \|/);
    expect(lines[2]?.split("|").map((c) => c.trim())).toEqual([
      "",
      "rps",
      "20000",
      "req/s",
      "base",
      "1000",
      "20.00x",
      "ratio >= 12",
      "yes",
      "",
    ]);
    expect(lines[3]?.split("|").map((c) => c.trim())).toEqual([
      "",
      "p99 at half peak",
      "3.000",
      "ms",
      "-",
      "-",
      "-",
      "<= 2 ms",
      "NO",
      "",
    ]);
  });
});

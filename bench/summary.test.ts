import { describe, expect, it } from "vitest";
import { failedChecks, formatNumber, formatTable, summaryRow } from "./summary.ts";

describe("summaryRow", () => {
  it("orients the ratio so that above 1 means ours is better, for throughput and for time", () => {
    const rps = summaryRow({
      name: "rps",
      value: 24_000,
      unit: "req/s",
      better: "higher",
      baseline: { name: "flask", value: 1_500 },
      goal: { ratioAtLeast: 12 },
    });
    expect(rps.ratio).toBe(16);
    expect(rps.met).toBe(true);
    const fit = summaryRow({
      name: "fit",
      value: 0.05,
      unit: "s",
      better: "lower",
      baseline: { name: "sklearn", value: 0.08 },
      goal: { ratioAtLeast: 2 },
    });
    expect(fit.ratio).toBeCloseTo(1.6, 12);
    expect(fit.met).toBe(false);
  });

  it("checks an absolute bound against the value in its own unit", () => {
    const ok = summaryRow({ name: "p99", value: 2, unit: "ms", better: "lower", goal: { atMost: 2 } });
    expect(ok).toEqual({
      name: "p99",
      value: 2,
      unit: "ms",
      baseline: null,
      baselineValue: null,
      ratio: null,
      goal: "<= 2 ms",
      met: true,
    });
    expect(
      summaryRow({ name: "p99", value: 2.01, unit: "ms", better: "lower", goal: { atMost: 2 } }).met,
    ).toBe(false);
  });

  it("checks a bound in times the baseline, and fails it without a baseline", () => {
    const p99 = (value: number, baseline?: number) =>
      summaryRow({
        name: "p99",
        value,
        unit: "ms",
        better: "lower",
        ...(baseline === undefined ? {} : { baseline: { name: "bare", value: baseline } }),
        goal: { atMostTimesBaseline: 1.25 },
      });
    expect(p99(2.5, 2)).toMatchObject({ goal: "<= 1.25x baseline", ratio: 0.8, met: true });
    expect(p99(2.51, 2).met).toBe(false);
    expect(p99(1).met).toBe(false);
  });

  it("writes small bounds in exponent form and leaves out an empty unit", () => {
    const row = summaryRow({ name: "diff", value: 3e-13, unit: "", better: "lower", goal: { atMost: 1e-6 } });
    expect(row).toMatchObject({ goal: "<= 1e-6", met: true });
  });

  it("leaves met null for a figure without a goal, and fails a ratio goal without a usable baseline", () => {
    const measured = summaryRow({
      name: "cli",
      value: 3,
      unit: "s",
      better: "lower",
      baseline: { name: "pandas", value: 6 },
    });
    expect(measured).toMatchObject({ ratio: 2, goal: null, met: null });
    const zeroBase = summaryRow({
      name: "rps",
      value: 10,
      unit: "req/s",
      better: "higher",
      baseline: { name: "none", value: 0 },
      goal: { ratioAtLeast: 1 },
    });
    expect(zeroBase).toMatchObject({ ratio: null, goal: "ratio >= 1", met: false });
  });

  it("fails an absolute goal on a NaN value", () => {
    expect(
      summaryRow({ name: "x", value: Number.NaN, unit: "ms", better: "lower", goal: { atMost: 1 } }).met,
    ).toBe(false);
  });
});

describe("failedChecks", () => {
  it("names the correctness checks that were missed, not the missed speed goals", () => {
    const check = { unit: "", better: "lower" as const, goal: { atMost: 1e-6 }, correctness: true };
    expect(
      failedChecks([
        { name: "coefficients", value: 2e-6, ...check },
        { name: "predictions", value: 1e-15, ...check },
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
      summaryRow({
        name: "rps",
        value: 20_000,
        unit: "req/s",
        better: "higher",
        baseline: { name: "flask", value: 1_000 },
        goal: { ratioAtLeast: 12 },
      }),
      summaryRow({ name: "p99 at half peak", value: 3, unit: "ms", better: "lower", goal: { atMost: 2 } }),
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
      "flask",
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

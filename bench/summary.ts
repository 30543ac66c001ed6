import { median } from "./coefficients.ts";

/**
 * The summary of a `make bench` run: one row per figure, each compared with a baseline measured in
 * the same run and checked against the goal the issue sets.
 */

/**
 * What a figure must reach. `ratioAtLeast`: ours must be at least that many times better than the
 * baseline (see `ratio`); `atMost`: the value itself, in its own unit, must not exceed the bound;
 * `atMostTimesBaseline`: the value must not exceed that many times the baseline's (a cost measured
 * against the least it can be, such as a tail latency against bare node:http's at the same rate);
 * for a figure measured in rounds, the median of the rounds' ratios must not.
 */
export type Goal = { ratioAtLeast: number } | { atMost: number } | { atMostTimesBaseline: number };

export interface Figure {
  name: string;
  value: number;
  unit: string;
  /** Which direction is better for this figure; decides how the ratio is oriented. */
  better: "higher" | "lower";
  baseline?: { name: string; value: number };
  /**
   * Ours over the baseline in each round, where the two were measured together: when given, the
   * figure's ratio and goal go by their median rather than by the ratio of the two medians. The
   * rounds of one run can differ twofold (this VM's cores change speed for seconds at a time, and a
   * half-peak round's rate is set by the peak just before it), so only a round's own pair shares
   * its machine state and its rate.
   */
  rounds?: readonly number[];
  goal?: Goal;
  /** The goal is a correctness check (same numbers as the baseline), not a speed target: a run that misses it fails. */
  correctness?: boolean;
}

export interface SummaryRow {
  name: string;
  value: number;
  unit: string;
  baseline: string | null;
  baselineValue: number | null;
  /** How many times better than the baseline ours is: above 1 means ours wins, whatever the unit. */
  ratio: number | null;
  goal: string | null;
  /** Null when the figure has no goal (it is measured and reported only). */
  met: boolean | null;
}

/**
 * A correctness check: the largest relative difference between our numbers and the baseline's
 * (coefficients, predictions), at most `atMost`; a run that misses it fails.
 */
export function correctnessCheck(name: string, maxRelativeDifference: number, atMost: number): Figure {
  return {
    name,
    value: maxRelativeDifference,
    unit: "",
    better: "lower",
    goal: { atMost },
    correctness: true,
  };
}

/** Ours over the baseline, the median of the rounds' when the figure has them. */
function timesBaseline(figure: Figure): number | null {
  if (!figure.baseline) return null;
  const times = figure.rounds?.length ? median(figure.rounds) : figure.value / figure.baseline.value;
  return Number.isFinite(times) ? times : null;
}

export function ratioOf(figure: Figure): number | null {
  const times = timesBaseline(figure);
  if (times === null) return null;
  const ratio = figure.better === "higher" ? times : 1 / times;
  return Number.isFinite(ratio) ? ratio : null;
}

/** A bound as written in a spec: `2`, `0.8`, `1e-6`. */
function boundText(x: number): string {
  return x !== 0 && Math.abs(x) < 1e-3 ? x.toExponential() : String(x);
}

export function describeGoal(goal: Goal, unit: string): string {
  if ("ratioAtLeast" in goal) return `ratio >= ${boundText(goal.ratioAtLeast)}`;
  if ("atMostTimesBaseline" in goal) return `<= ${boundText(goal.atMostTimesBaseline)}x baseline`;
  return `<= ${boundText(goal.atMost)}${unit ? ` ${unit}` : ""}`;
}

export function summaryRow(figure: Figure): SummaryRow {
  const ratio = ratioOf(figure);
  let met: boolean | null = null;
  const { goal } = figure;
  if (goal && "ratioAtLeast" in goal) met = ratio !== null && ratio >= goal.ratioAtLeast;
  else if (goal && "atMostTimesBaseline" in goal) {
    const times = timesBaseline(figure);
    met = times !== null && times <= goal.atMostTimesBaseline;
  } else if (goal) met = Number.isFinite(figure.value) && figure.value <= goal.atMost;
  return {
    name: figure.name,
    value: figure.value,
    unit: figure.unit,
    baseline: figure.baseline?.name ?? null,
    baselineValue: figure.baseline?.value ?? null,
    ratio,
    goal: figure.goal ? describeGoal(figure.goal, figure.unit) : null,
    met,
  };
}

/** The correctness checks a run missed, by name; a run with any of them has measured a wrong program. */
export function failedChecks(figures: readonly Figure[]): string[] {
  return figures.filter((f) => f.correctness && summaryRow(f).met === false).map((f) => f.name);
}

/** Four significant digits, without exponent notation for the magnitudes benchmarks produce. */
export function formatNumber(x: number | null): string {
  if (x === null) return "-";
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return "0";
  const abs = Math.abs(x);
  if (abs >= 1e-3 && abs < 1e9) {
    const decimals = Math.max(0, 3 - Math.floor(Math.log10(abs)));
    return x.toFixed(decimals);
  }
  return x.toExponential(3);
}

const COLUMNS = ["figure", "value", "unit", "baseline", "baseline value", "ratio", "goal", "met"] as const;

function cells(row: SummaryRow): string[] {
  return [
    row.name,
    formatNumber(row.value),
    row.unit,
    row.baseline ?? "-",
    formatNumber(row.baselineValue),
    row.ratio === null ? "-" : `${formatNumber(row.ratio)}x`,
    row.goal ?? "-",
    row.met === null ? "-" : row.met ? "yes" : "NO",
  ];
}

/** A Markdown table: readable in a terminal and pasteable into the README as is. */
export function formatTable(rows: readonly SummaryRow[]): string {
  const body = rows.map(cells);
  const widths = COLUMNS.map((title, i) => Math.max(title.length, ...body.map((r) => (r[i] ?? "").length)));
  const line = (r: readonly string[]) => `| ${r.map((c, i) => c.padEnd(widths[i] ?? 0)).join(" | ")} |`;
  const rule = `| ${widths.map((w) => "-".repeat(w)).join(" | ")} |`;
  return [line(COLUMNS), rule, ...body.map(line)].join("\n");
}

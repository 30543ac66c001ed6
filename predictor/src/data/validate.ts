import { BAR_FIELDS, type BarColumns, barProblems, isSoundBar } from "../bars.ts";
import { InputProblems } from "../problems.ts";
import type { RawBars } from "./csv.ts";

/**
 * Bar validation. Every problem names its row (1-based data row, header excluded, counted before
 * any drop) and column. Non-finite values are rejected or, by policy, dropped with a count per
 * reason; every other problem rejects the data. Nothing is dropped silently.
 */

export type NonFinitePolicy = "reject" | "drop";
export const NON_FINITE_POLICIES: readonly NonFinitePolicy[] = ["reject", "drop"];

export interface ValidationReport {
  rows: number;
  droppedRows: number;
  /** Dropped rows by reason, e.g. `{"non-finite close": 2}`. */
  reasons: Record<string, number>;
  /** Input columns that are not bar fields and were not read. */
  ignoredColumns: string[];
}

export interface ValidateOptions {
  nonFinite?: NonFinitePolicy;
  minRows?: number;
}

export class DataValidationError extends InputProblems {
  override name = "DataValidationError";
}

/** At most this many problems are listed; the message says how many more there were. */
const MAX_LISTED = 8;

class Problems {
  readonly listed: string[] = [];
  count = 0;
  add(message: string): void {
    this.count++;
    if (this.listed.length < MAX_LISTED) this.listed.push(message);
  }
  throwIfAny(): void {
    if (this.count === 0) return;
    const more = this.count - this.listed.length;
    throw new DataValidationError(more > 0 ? [...this.listed, `and ${more} more`] : this.listed);
  }
}

export function rawFromColumns(columns: BarColumns): RawBars {
  return { columns, issues: [], issueCount: 0, ignoredColumns: [], missingColumns: [] };
}

function isoOf(ts: number): string {
  return Number.isFinite(ts) && Math.abs(ts) < 8.64e15 ? new Date(ts).toISOString() : String(ts);
}

/** Keeps the rows whose index is in `keep`, in order. */
function selectRows(c: BarColumns, keep: Int32Array): BarColumns {
  const pick = (a: Float64Array) => {
    const out = new Float64Array(keep.length);
    for (let i = 0; i < keep.length; i++) out[i] = a[keep[i] as number] as number;
    return out;
  };
  return {
    length: keep.length,
    ts: pick(c.ts),
    open: pick(c.open),
    high: pick(c.high),
    low: pick(c.low),
    close: pick(c.close),
    volume: pick(c.volume),
  };
}

function allFinite(xs: Float64Array): boolean {
  for (let i = 0; i < xs.length; i++) if (!Number.isFinite(xs[i] as number)) return false;
  return true;
}

/** Rows to keep (all of them: undefined), recording non-finite cells as problems or drop reasons. */
function checkNonFinite(
  c: BarColumns,
  policy: NonFinitePolicy,
  problems: Problems,
  reasons: Record<string, number>,
): Int32Array | undefined {
  if (BAR_FIELDS.every((f) => allFinite(c[f]))) return undefined;
  const keep = new Int32Array(c.length);
  let kept = 0;
  for (let r = 0; r < c.length; r++) {
    let bad = false;
    for (const f of BAR_FIELDS) {
      const v = c[f][r] as number;
      if (Number.isFinite(v)) continue;
      bad = true;
      if (policy === "reject") {
        problems.add(
          `row ${r + 1}, column "${f}": ${v} is not finite (nonFinite policy "reject"; "drop" drops such rows)`,
        );
      } else {
        const reason = `non-finite ${f}`;
        reasons[reason] = (reasons[reason] ?? 0) + 1;
      }
    }
    if (!bad) keep[kept++] = r;
  }
  return keep.subarray(0, kept);
}

function checkBar(c: BarColumns, i: number, row: number, problems: Problems): void {
  const found = barProblems(
    c.open[i] as number,
    c.high[i] as number,
    c.low[i] as number,
    c.close[i] as number,
    c.volume[i] as number,
  );
  for (const { column, message } of found) problems.add(`row ${row}, column "${column}": ${message}`);
}

function checkOrder(c: BarColumns, i: number, row: number, prevRow: number, problems: Problems): void {
  const ts = c.ts[i] as number;
  const prev = c.ts[i - 1] as number;
  if (ts === prev) {
    problems.add(`row ${row}, column "ts": duplicate timestamp ${isoOf(ts)} (also row ${prevRow})`);
  } else if (ts < prev) {
    problems.add(
      `row ${row}, column "ts": timestamps not ascending: ${isoOf(ts)} comes after ${isoOf(prev)} (row ${prevRow})`,
    );
  }
}

/** Validates parsed bars; returns clean columns and what was dropped, or throws DataValidationError. */
export function validateBars(
  raw: RawBars,
  opts: ValidateOptions = {},
): { columns: BarColumns; report: ValidationReport } {
  const policy = opts.nonFinite ?? "reject";
  const minRows = opts.minRows ?? 1;
  const problems = new Problems();
  if (raw.missingColumns.length > 0) {
    problems.add(
      `missing column(s) ${raw.missingColumns.map((m) => `"${m}"`).join(", ")}; need ts (or timestamp, time, date), open, high, low, close, volume`,
    );
    problems.throwIfAny();
  }
  for (const issue of raw.issues) {
    const problem = issue.problem ?? "is not a number";
    problems.add(
      `row ${issue.row}, column "${issue.column}": ${issue.text ? `"${issue.text}" ` : ""}${problem}`,
    );
  }
  problems.count += raw.issueCount - raw.issues.length;
  problems.throwIfAny();

  const reasons: Record<string, number> = {};
  const keep = checkNonFinite(raw.columns, policy, problems, reasons);
  problems.throwIfAny();
  const dropped = keep ? raw.columns.length - keep.length : 0;
  const columns = keep && dropped > 0 ? selectRows(raw.columns, keep) : raw.columns;
  const rowOf = (i: number) => (keep ? (keep[i] as number) : i) + 1;

  const { ts, open, high, low, close, volume } = columns;
  for (let i = 0; i < columns.length; i++) {
    const sound = isSoundBar(
      open[i] as number,
      high[i] as number,
      low[i] as number,
      close[i] as number,
      volume[i] as number,
    );
    if (!sound) checkBar(columns, i, rowOf(i), problems);
    if (i > 0 && !((ts[i] as number) > (ts[i - 1] as number)))
      checkOrder(columns, i, rowOf(i), rowOf(i - 1), problems);
  }
  if (columns.length < minRows) {
    const after = dropped > 0 ? ` after dropping ${dropped}` : "";
    problems.add(`too few rows: ${columns.length}${after}; need at least ${minRows}`);
  }
  problems.throwIfAny();
  return {
    columns,
    report: { rows: columns.length, droppedRows: dropped, reasons, ignoredColumns: raw.ignoredColumns },
  };
}

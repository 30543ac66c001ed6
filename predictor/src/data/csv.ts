import { BAR_FIELDS, type BarColumns } from "../bars.ts";
import { decimalToDouble, POW10 } from "./decimal.ts";

/**
 * CSV of OHLCV bars, parsed straight from bytes in one streaming pass.
 *
 * Why hand-written: the train command is benchmarked on a 1M-row CSV against pandas.read_csv (a C
 * parser). Splitting into line strings and then into field strings allocates tens of millions of
 * short-lived strings; here each numeric field is read from its bytes into a typed column with no
 * allocation, and chunks are consumed as they arrive (file stream or HTTP body) without holding
 * the text. Plain decimals of up to 19 significant digits are converted exactly from their bytes
 * (`scanDecimal`); anything else falls back to Number() on the text, so results equal Number().
 *
 * Format: comma separated, first non-blank line is the header (case-insensitive, quotes and a BOM
 * allowed), blank lines skipped, extra columns ignored and reported. A quoted field may hold commas
 * and doubled quotes (RFC 4180), not line breaks. A row with more fields than the header is an
 * issue, as is one with fewer. Time column `ts`, `timestamp`,
 * `time` or `date`: epoch milliseconds, epoch seconds (values below 1e11; 1e11 s is the year 5138),
 * or ISO 8601 (a time without a zone is UTC). Empty cells and NaN/Infinity texts become NaN/±Inf
 * for the validator's non-finite policy; any other unparseable text is recorded as a cell issue.
 */

export const TIME_COLUMN_ALIASES = ["ts", "timestamp", "time", "date"] as const;

/**
 * A cell that is not a number (or timestamp), is missing, or has no column. `row` is the 1-based
 * data row, header excluded; `problem` says what is wrong when it is not "is not a number".
 */
export interface CellIssue {
  row: number;
  column: string;
  text: string;
  problem?: string;
}

export interface RawBars {
  /** Parsed values; NaN/±Inf where the cell was empty or said so, NaN where it was unparseable. */
  columns: BarColumns;
  /** Unparseable cells: at most MAX_RECORDED_ISSUES examples, `issueCount` in all. */
  issues: CellIssue[];
  issueCount: number;
  /** Header columns that are not bar fields. */
  ignoredColumns: string[];
  /** Bar fields the header lacks (the validator rejects the data when any are missing). */
  missingColumns: string[];
}

export const MAX_RECORDED_ISSUES = 20;

const COMMA = 44;
const QUOTE = 34;
const CR = 13;
const LF = 10;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE_TEXT: Record<string, number> = {
  nan: Number.NaN,
  inf: Number.POSITIVE_INFINITY,
  "+inf": Number.POSITIVE_INFINITY,
  "-inf": Number.NEGATIVE_INFINITY,
  infinity: Number.POSITIVE_INFINITY,
  "+infinity": Number.POSITIVE_INFINITY,
  "-infinity": Number.NEGATIVE_INFINITY,
};
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(\.\d{1,9})?)?)?(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** Marks a cell that is neither a number nor an accepted non-finite text. */
const UNPARSEABLE = Symbol("unparseable");

const LATIN1 = new TextDecoder("latin1");
/** Strips a leading byte order mark. */
const UTF8 = new TextDecoder("utf-8");

function latin1(bytes: Uint8Array, start: number, end: number): string {
  return LATIN1.decode(bytes.subarray(start, end));
}

/**
 * Where the last `scanDecimal` stopped, whether it read any digit, and whether its value is exact.
 * Module state instead of a returned object: this runs for every cell, and an object per cell
 * would be millions of allocations.
 */
let scanStop = 0;
let scanDigits = false;
let scanExact = false;

/**
 * Reads [sign] digits [. digits] from `start`, stopping at the first other byte or `end`. The value
 * is exact (scanExact) when there was a digit, at most 19 significant digits and 22 decimals: up
 * to 15 digits by Clinger's fast path (one correctly rounded division gives the same double as
 * Number()), 16 to 19 by `decimalToDouble`.
 */
function scanDecimal(bytes: Uint8Array, start: number, end: number): number {
  let i = start;
  let negative = false;
  const first = bytes[i];
  if (i < end && (first === 45 || first === 43)) {
    negative = first === 45;
    i++;
  }
  // Significant digits: the first 15 in `hi`, up to 4 more in `lo` (one pass, no second look at
  // the bytes: measured faster on doubles printed in full); leading zeros are not counted.
  let hi = 0;
  let hiDigits = 0;
  let lo = 0;
  let loDigits = 0;
  let tooLong = false;
  let scale = 0;
  const digitsFrom = i;
  let fractionFrom = -1;
  for (;;) {
    for (; i < end; i++) {
      const d = (bytes[i] as number) - 48;
      if (d < 0 || d > 9) break;
      if (hiDigits < 15) {
        hi = hi * 10 + d;
        if (hi !== 0) hiDigits++;
      } else if (loDigits < 4) {
        lo = lo * 10 + d;
        loDigits++;
      } else {
        tooLong = true;
      }
    }
    if (fractionFrom >= 0) {
      scale = i - fractionFrom;
      break;
    }
    if (i >= end || bytes[i] !== 46) break;
    fractionFrom = ++i;
  }
  const seenDigit = i - digitsFrom > (fractionFrom >= 0 ? 1 : 0);
  scanStop = i;
  scanDigits = seenDigit;
  let v: number;
  if (!seenDigit || tooLong || scale > 22) v = Number.NaN;
  else if (loDigits === 0) v = hi / (POW10[scale] as number);
  else v = decimalToDouble(hi, lo, loDigits, scale);
  scanExact = !Number.isNaN(v);
  return negative ? -v : v;
}

/** Decimal number in bytes[start, end); NaN/±Inf for empty and NaN/Infinity texts. */
export function parseNumberBytes(bytes: Uint8Array, start: number, end: number): number | typeof UNPARSEABLE {
  const v = scanDecimal(bytes, start, end);
  if (scanExact && scanStop === end) return v;
  return parseNumberText(latin1(bytes, start, end));
}

function parseNumberText(raw: string): number | typeof UNPARSEABLE {
  const text = raw.trim();
  if (text === "") return Number.NaN;
  if (NUMBER_TEXT.test(text)) return Number(text);
  return NON_FINITE_TEXT[text.toLowerCase()] ?? UNPARSEABLE;
}

/** Epoch ms from an epoch (ms or s) number or an ISO 8601 text; UNPARSEABLE otherwise. */
export function parseTimestampText(raw: string): number | typeof UNPARSEABLE {
  const text = raw.trim();
  const n = parseNumberText(text);
  if (n !== UNPARSEABLE) return Number.isFinite(n) ? epochMs(n) : n;
  const m = ISO_8601.exec(text);
  if (!m) return UNPARSEABLE;
  const [, y, mo, d, h = "0", mi = "0", s = "0", frac = "", zone = "Z"] = m;
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  const check = new Date(0);
  check.setUTCFullYear(Number(y), Number(mo) - 1, Number(d));
  const ms = check.setUTCHours(Number(h), Number(mi), Number(s), 0);
  if (
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi) ||
    check.getUTCSeconds() !== Number(s)
  ) {
    return UNPARSEABLE;
  }
  let offsetMin = 0;
  if (zone.toUpperCase() !== "Z") {
    const digits = zone.slice(1).replace(":", "");
    offsetMin =
      (zone[0] === "-" ? -1 : 1) * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2) || "0"));
  }
  const fracMs = frac ? Number(frac) * 1000 : 0;
  return ms + fracMs - offsetMin * 60_000;
}

const TS = BAR_FIELDS.indexOf("ts");

/** Epoch seconds become milliseconds (see the format notes above). */
function epochMs(n: number): number {
  return Math.abs(n) < 1e11 ? n * 1000 : n;
}

/** Feed chunks with `push`, then `finish` for the columns. */
export class CsvBarParser {
  /** One growable array per bar field, in BAR_FIELDS order. */
  private arrays: Float64Array[] = BAR_FIELDS.map(() => new Float64Array(4096));
  private rows = 0;
  /** Bar field index written by each CSV field, -1 for ignored columns; undefined before the header. */
  private fieldColumn: Int8Array | undefined;
  /** Fields a row needs to reach the last mapped column. */
  private neededFields = 0;
  private ignoredColumns: string[] = [];
  private missingColumns: string[] = [];
  private issues: CellIssue[] = [];
  private issueCount = 0;
  private carry: Uint8Array = new Uint8Array(0);
  private decodedBytes: Uint8Array | undefined;
  private decodedText = "";

  push(chunk: Uint8Array): void {
    // A caller may refill the same buffer between pushes: decoded text is reused within a push only.
    this.decodedBytes = undefined;
    let pos = 0;
    if (this.carry.length > 0) {
      const nl = chunk.indexOf(LF);
      if (nl < 0) {
        this.carry = concat(this.carry, chunk);
        return;
      }
      const line = concat(this.carry, chunk.subarray(0, nl));
      this.carry = new Uint8Array(0);
      this.line(line, 0, line.length);
      pos = nl + 1;
    }
    while (pos < chunk.length) {
      const nl = chunk.indexOf(LF, pos);
      if (nl < 0) {
        this.carry = chunk.slice(pos);
        return;
      }
      this.line(chunk, pos, nl);
      pos = nl + 1;
    }
  }

  finish(): RawBars {
    if (this.carry.length > 0) {
      const last = this.carry;
      this.carry = new Uint8Array(0);
      this.line(last, 0, last.length);
    }
    if (this.fieldColumn === undefined) this.missingColumns = [...BAR_FIELDS];
    const n = this.rows;
    const [ts, open, high, low, close, volume] = this.arrays.map((a) => a.slice(0, n)) as [
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
      Float64Array,
    ];
    return {
      columns: { length: n, ts, open, high, low, close, volume },
      issues: this.issues,
      issueCount: this.issueCount,
      ignoredColumns: this.ignoredColumns,
      missingColumns: this.missingColumns,
    };
  }

  private line(bytes: Uint8Array, start: number, endExclusive: number): void {
    let end = endExclusive;
    if (end > start && bytes[end - 1] === CR) end--;
    if (end === start) return;
    const fieldColumn = this.fieldColumn;
    if (fieldColumn === undefined) {
      this.header(bytes, start, end);
      return;
    }
    const row = this.rows;
    if (row === (this.arrays[0] as Float64Array).length) this.grow();
    const arrays = this.arrays;
    let pos = start;
    let field = 0;
    for (;;) {
      const column = field < fieldColumn.length ? (fieldColumn[field] as number) : -1;
      let fieldEnd: number;
      if (pos < end && bytes[pos] === QUOTE) {
        fieldEnd = quotedFieldEnd(bytes, pos, end);
        if (column >= 0) this.slowCell(bytes, pos, fieldEnd, column, row);
      } else if (column < 0) {
        fieldEnd = nextComma(bytes, pos, end);
      } else {
        const v = scanDecimal(bytes, pos, end);
        if (scanDigits && (scanStop === end || bytes[scanStop] === COMMA)) {
          fieldEnd = scanStop;
          // A plain decimal with too many digits for the fast path (e.g. a double printed in
          // full, 17 digits): Number() on its text, which is correctly rounded.
          const value = scanExact ? v : Number(this.text(bytes, pos, fieldEnd));
          (arrays[column] as Float64Array)[row] = column === TS ? epochMs(value) : value;
        } else {
          fieldEnd = nextComma(bytes, scanStop, end);
          this.slowCell(bytes, pos, fieldEnd, column, row);
        }
      }
      if (field === fieldColumn.length) {
        const text = this.text(bytes, pos, fieldEnd);
        this.issue(row, `(field ${field + 1})`, text, `is beyond the header's ${fieldColumn.length} columns`);
      }
      field++;
      if (fieldEnd >= end) break;
      pos = fieldEnd + 1;
    }
    if (field < this.neededFields) this.missingFields(field, row);
    this.rows = row + 1;
  }

  private missingFields(fields: number, row: number): void {
    const fieldColumn = this.fieldColumn as Int8Array;
    for (let f = fields; f < fieldColumn.length; f++) {
      const column = fieldColumn[f] as number;
      if (column < 0) continue;
      (this.arrays[column] as Float64Array)[row] = Number.NaN;
      this.issue(row, BAR_FIELDS[column] as string, "", `is missing: the row has ${fields} fields`);
    }
  }

  private grow(): void {
    this.arrays = this.arrays.map((a) => {
      const b = new Float64Array(a.length * 2);
      b.set(a);
      return b;
    });
  }

  /** A cell off the fast path: quoted, exponent, timestamp text, NaN/Infinity, empty or invalid. */
  private slowCell(bytes: Uint8Array, start: number, end: number, column: number, row: number): void {
    const text = unquote(this.text(bytes, start, end));
    const v = column === TS ? parseTimestampText(text) : parseNumberText(text);
    if (v === UNPARSEABLE) {
      (this.arrays[column] as Float64Array)[row] = Number.NaN;
      this.issue(row, BAR_FIELDS[column] as string, text);
    } else {
      (this.arrays[column] as Float64Array)[row] = v;
    }
  }

  /**
   * Text of bytes[start, end). The whole chunk is decoded once, on its first cell off the fast
   * path, and cells are sliced from it: one decode per chunk instead of one per cell.
   */
  private text(bytes: Uint8Array, start: number, end: number): string {
    if (this.decodedBytes !== bytes) {
      this.decodedBytes = bytes;
      this.decodedText = LATIN1.decode(bytes);
    }
    return this.decodedText.slice(start, end);
  }

  private issue(row: number, column: string, text: string, problem?: string): void {
    this.issueCount++;
    if (this.issues.length < MAX_RECORDED_ISSUES) {
      const shown = text.length > 40 ? `${text.slice(0, 40)}...` : text;
      this.issues.push({ row: row + 1, column, text: shown, ...(problem ? { problem } : {}) });
    }
  }

  /** The header's column names: fields split by the same quote rule as data rows, then decoded. */
  private header(bytes: Uint8Array, start: number, end: number): void {
    const names: string[] = [];
    let pos = start;
    if (bytes[pos] === 0xef && bytes[pos + 1] === 0xbb && bytes[pos + 2] === 0xbf) pos += 3; // BOM
    for (;;) {
      const fieldEnd = bytes[pos] === QUOTE ? quotedFieldEnd(bytes, pos, end) : nextComma(bytes, pos, end);
      names.push(
        unquote(UTF8.decode(bytes.subarray(pos, fieldEnd)).trim())
          .trim()
          .toLowerCase(),
      );
      if (fieldEnd >= end) break;
      pos = fieldEnd + 1;
    }
    const fieldColumn = new Int8Array(names.length).fill(-1);
    names.forEach((name, i) => {
      const field = (TIME_COLUMN_ALIASES as readonly string[]).includes(name) ? "ts" : name;
      const column = (BAR_FIELDS as readonly string[]).indexOf(field);
      // A second column for the same field is ignored (and reported) rather than overwriting the first.
      if (column >= 0 && !fieldColumn.includes(column)) fieldColumn[i] = column;
      else this.ignoredColumns.push(name);
    });
    this.missingColumns = BAR_FIELDS.filter((_, column) => !fieldColumn.includes(column));
    this.neededFields = fieldColumn.findLastIndex((c) => c >= 0) + 1;
    this.fieldColumn = fieldColumn;
  }
}

/**
 * End of the quoted field that starts at `start` (its opening quote): the comma after its closing
 * quote, doubled quotes ("") being part of the text, or the end of the line.
 */
function quotedFieldEnd(bytes: Uint8Array, start: number, end: number): number {
  let pos = start + 1;
  for (;;) {
    const quote = bytes.indexOf(QUOTE, pos);
    if (quote < 0 || quote >= end) return end;
    if (quote + 1 >= end || bytes[quote + 1] !== QUOTE) return nextComma(bytes, quote + 1, end);
    pos = quote + 2;
  }
}

/** A field's text without its enclosing quotes, doubled quotes made single. */
function unquote(text: string): string {
  return text.length >= 2 && text.startsWith('"') && text.endsWith('"')
    ? text.slice(1, -1).replaceAll('""', '"')
    : text;
}

/** End of the field starting at `from`: the next comma, or the end of the line. */
function nextComma(bytes: Uint8Array, from: number, end: number): number {
  if (from >= end) return end;
  const comma = bytes.indexOf(COMMA, from);
  return comma < 0 || comma > end ? end : comma;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export function parseCsvBars(data: Uint8Array | string): RawBars {
  const parser = new CsvBarParser();
  parser.push(typeof data === "string" ? new TextEncoder().encode(data) : data);
  return parser.finish();
}

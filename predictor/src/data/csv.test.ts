import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { CsvBarParser, parseCsvBars, parseNumberBytes, parseTimestampText } from "./csv.ts";

const enc = (s: string) => new TextEncoder().encode(s);
const num = (s: string) => parseNumberBytes(enc(s), 0, s.length);

describe("parseNumberBytes", () => {
  it("equals Number() on decimal texts, including the slow path", () => {
    for (const s of [
      "0",
      "1",
      "-2.5",
      "+3.25",
      "100.0001",
      "0.1",
      "123456789012345",
      "1234567890.123456789",
      "1e-7",
      "-4.2E+3",
      ".5",
      "5.",
    ]) {
      expect(num(s)).toBe(Number(s));
    }
  });

  it("equals Number() for any finite double, in shortest, fixed and exponent notation", () => {
    fc.assert(
      fc.property(
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.integer({ min: 0, max: 12 }),
        (x, digits) => {
          for (const text of [String(x), x.toFixed(digits), x.toExponential(digits)]) {
            expect(num(text)).toBe(Number(text));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });

  it("reads empty and NaN/Infinity texts as non-finite and flags anything else", () => {
    expect(num("")).toBeNaN();
    expect(num("NaN")).toBeNaN();
    expect(num("-inf")).toBe(Number.NEGATIVE_INFINITY);
    expect(num("Infinity")).toBe(Number.POSITIVE_INFINITY);
    for (const s of ["abc", "1.2.3", "0x10", "-", "1,5"]) expect(typeof num(s)).toBe("symbol");
  });
});

describe("parseTimestampText", () => {
  it("reads epoch milliseconds, epoch seconds and ISO 8601 with and without zones", () => {
    expect(parseTimestampText("1704067200000")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestampText("1704067200")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestampText("1704067200.5")).toBe(Date.UTC(2024, 0, 1) + 500);
    expect(parseTimestampText("2024-01-01")).toBe(Date.UTC(2024, 0, 1));
    expect(parseTimestampText("2024-01-01T09:30:00Z")).toBe(Date.UTC(2024, 0, 1, 9, 30));
    expect(parseTimestampText("2024-01-01 09:30")).toBe(Date.UTC(2024, 0, 1, 9, 30));
    expect(parseTimestampText("2024-01-01T09:30:00.250+02:00")).toBe(Date.UTC(2024, 0, 1, 7, 30, 0, 250));
    expect(parseTimestampText("2024-01-01T09:30:00-0130")).toBe(Date.UTC(2024, 0, 1, 11, 0));
    expect(parseTimestampText("0024-03-01")).toBe(new Date("0024-03-01T00:00:00Z").getTime());
  });

  it("flags impossible dates and other text", () => {
    for (const s of ["2024-02-30", "2024-13-01T00:00:00Z", "yesterday", "01/02/2024"]) {
      expect(typeof parseTimestampText(s)).toBe("symbol");
    }
  });
});

describe("parseCsvBars", () => {
  const csv = [
    "\uFEFFTimestamp,Open,High,Low,Close,Volume,symbol",
    "2024-01-01T00:00:00Z,100,101,99,100.5,1200,ABC",
    "",
    '2024-01-01T00:01:00Z,"100.5",102,100,101.25,900,"A,B"',
    "2024-01-01T00:02:00Z,101.25,101.5,100.75,,1000,ABC",
  ].join("\r\n");

  it("maps header columns case-insensitively, handles BOM, CRLF, quotes and blank lines", () => {
    const raw = parseCsvBars(csv);
    expect(raw.columns.length).toBe(3);
    expect(Array.from(raw.columns.ts)).toEqual([0, 1, 2].map((m) => Date.UTC(2024, 0, 1, 0, m)));
    expect(Array.from(raw.columns.open)).toEqual([100, 100.5, 101.25]);
    expect(raw.columns.volume[1]).toBe(900);
    expect(raw.columns.close[2]).toBeNaN();
    expect(raw.ignoredColumns).toEqual(["symbol"]);
    expect(raw.missingColumns).toEqual([]);
    expect(raw.issueCount).toBe(0);
  });

  it("gives the same result whatever the chunk boundaries", () => {
    const whole = parseCsvBars(csv);
    const bytes = enc(csv);
    for (const size of [1, 2, 3, 7, 64]) {
      const parser = new CsvBarParser();
      for (let i = 0; i < bytes.length; i += size) parser.push(bytes.subarray(i, i + size));
      const chunked = parser.finish();
      expect(Array.from(chunked.columns.ts)).toEqual(Array.from(whole.columns.ts));
      expect(Array.from(chunked.columns.high)).toEqual(Array.from(whole.columns.high));
    }
  });

  it("records non-numeric cells with row and column, and missing columns", () => {
    const raw = parseCsvBars("ts,open,high,low,close\n1,1,1,1,oops\n2,1,1\n");
    expect(raw.missingColumns).toEqual(["volume"]);
    expect(raw.issues).toEqual([
      { row: 1, column: "close", text: "oops" },
      { row: 2, column: "low", text: "", problem: "is missing: the row has 3 fields" },
      { row: 2, column: "close", text: "", problem: "is missing: the row has 3 fields" },
    ]);
  });

  it("reports a row with more fields than the header instead of dropping the extra cells", () => {
    const raw = parseCsvBars("ts,open,high,low,close,volume\n1,1,1,1,1,5,7,8\n2,1,1,1,1,5\n");
    expect(raw.issues).toEqual([
      { row: 1, column: "(field 7)", text: "7", problem: "is beyond the header's 6 columns" },
    ]);
    expect(raw.issueCount).toBe(1);
  });

  it("reads quoted fields with commas and doubled quotes (RFC 4180), in the header too", () => {
    const csv = [
      'ts,"note, free text",open,high,low,close,volume,"say ""hi"""',
      '1,"say ""hi"", ok",1,2,0.5,1.5,10,x',
      '2,"plain",1,2,0.5,"1.75",10,"a,b"',
    ].join("\n");
    const raw = parseCsvBars(csv);
    expect(raw.issues).toEqual([]);
    expect(raw.ignoredColumns).toEqual(["note, free text", 'say "hi"']);
    expect(Array.from(raw.columns.open)).toEqual([1, 1]);
    expect(Array.from(raw.columns.close)).toEqual([1.5, 1.75]);
    expect(Array.from(raw.columns.volume)).toEqual([10, 10]);
  });

  it("names the column of a quoted cell that is not a number, quotes undone", () => {
    const raw = parseCsvBars('ts,open,high,low,close,volume\n1,1,1,1,"1 ""x""",5\n');
    expect(raw.issues).toEqual([{ row: 1, column: "close", text: '1 "x"' }]);
  });

  it("parses 200k rows exactly like Number(), short decimals and doubles printed in full alike", () => {
    const price = (i: number) => 100 + Math.sin(i) * 3;
    const lines = ["ts,open,high,low,close,volume"];
    for (let i = 0; i < 200_000; i++) {
      const short = price(i).toFixed(4);
      lines.push(`${1_700_000_000_000 + i * 60_000},${short},${price(i)},${short},${price(i)},${i % 997}`);
    }
    const raw = parseCsvBars(lines.join("\n"));
    expect(raw.columns.length).toBe(200_000);
    expect(raw.issueCount).toBe(0);
    for (let i = 0; i < 200_000; i += 997) {
      expect(raw.columns.open[i]).toBe(Number(price(i).toFixed(4)));
      expect(raw.columns.close[i]).toBe(price(i));
      expect(raw.columns.high[i]).toBe(price(i));
    }
    expect(raw.columns.ts[199_999]).toBe(1_700_000_000_000 + 199_999 * 60_000);
  });
});

import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { emptyColumns } from "../bars.ts";
import { DataValidationError, rawFromColumns, validateBars } from "../data/validate.ts";
import { RequestError } from "./errors.ts";
import { servedModel } from "./model.ts";
import { decodeRow } from "./rows.ts";
import { testArtifactFile } from "./test-support.ts";

const model = servedModel(testArtifactFile());

/** A bar of small integers (zero and negatives included) so that every rule is broken now and then. */
const bar = fc.record({
  open: fc.integer({ min: -2, max: 6 }),
  high: fc.integer({ min: -2, max: 6 }),
  low: fc.integer({ min: -2, max: 6 }),
  close: fc.integer({ min: -2, max: 6 }),
  volume: fc.integer({ min: -2, max: 6 }),
});

describe("bars sent for a prediction", () => {
  it("are rejected exactly when training would reject them as CSV rows, naming the same column", () => {
    fc.assert(
      fc.property(fc.array(bar, { minLength: 6, maxLength: 8 }), (window) => {
        const bars = window.map((b, i) => ({ ts: 60_000 * (i + 1), ...b }));
        const columns = emptyColumns(bars.length);
        bars.forEach((b, i) => {
          for (const f of ["ts", "open", "high", "low", "close", "volume"] as const) columns[f][i] = b[f];
        });
        let training: string | undefined;
        try {
          validateBars(rawFromColumns(columns));
        } catch (err) {
          if (!(err instanceof DataValidationError)) throw err;
          training = err.problems[0];
        }
        let serving: RequestError | undefined;
        try {
          decodeRow({ bars }, -1, model, new Float64Array(model.features.length));
        } catch (err) {
          if (!(err instanceof RequestError)) throw err;
          serving = err;
        }
        if (training === undefined) {
          // A sound window can still fail in the features (a log of a price ratio); not a bar rule.
          expect(serving?.field ?? "bars").toBe("bars");
          return;
        }
        const [, row, column] = /^row (\d+), column "(\w+)"/.exec(training) ?? [];
        expect(serving?.field).toBe(`bars[${Number(row) - 1}].${column}`);
      }),
    );
  });
});

describe("features sent by name", () => {
  const names = model.features;
  const decoded = (features: Record<string, unknown>) => {
    const out = new Float64Array(names.length);
    decodeRow({ features }, 3, model, out);
    return Array.from(out);
  };
  const errorOf = (features: Record<string, unknown>) => {
    try {
      decoded(features);
    } catch (err) {
      if (err instanceof RequestError) return err.message;
      throw err;
    }
    return undefined;
  };

  it("give the same values in any key order", () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ noNaN: true, noDefaultInfinity: true }), {
          minLength: names.length,
          maxLength: names.length,
        }),
        fc.func(fc.integer()),
        (values, key) => {
          const entries = names.map((n, i) => [n, values[i]] as const);
          const shuffled = [...entries].sort((a, b) => key(a[0]) - key(b[0]));
          expect(decoded(Object.fromEntries(shuffled))).toEqual(values);
        },
      ),
    );
  });

  it("are refused naming the field, whatever their order, when one is missing, extra or not finite", () => {
    const inOrder = Object.fromEntries(names.map((n, i) => [n, i / 10]));
    const reversed = Object.fromEntries(Object.entries(inOrder).reverse());
    const last = names[names.length - 1] as string;
    for (const row of [inOrder, reversed]) {
      expect(errorOf({ ...row, [last]: "1" })).toBe(
        `rows[3].features.${last} must be a finite number, got "1"`,
      );
      expect(errorOf({ ...row, extra: 1 })).toMatch(
        /^rows\[3\]\.features\.extra is not a feature of this model/,
      );
      const { [last]: _, ...missing } = row;
      expect(errorOf(missing)).toMatch(new RegExp(`^rows\\[3\\]\\.features\\.${last} is required`));
    }
  });
});

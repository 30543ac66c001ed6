import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decimalToDouble } from "./decimal.ts";

/** Splits a digit string as the CSV scanner does: 15 digits into hi, the rest into lo. */
function convert(digits: string, scale: number): number {
  const significant = digits.replace(/^0+/, "");
  return decimalToDouble(
    Number(significant.slice(0, 15)),
    Number(significant.slice(15) || "0"),
    significant.length - 15,
    scale,
  );
}

function text(digits: string, scale: number): string {
  return scale === 0
    ? digits
    : `${digits.slice(0, digits.length - scale)}.${digits.slice(digits.length - scale)}`;
}

describe("decimalToDouble", () => {
  it("equals Number() for 16 to 19 significant digits at any scale, and rarely abstains on prices", () => {
    // Abstaining is for ties and near-ties: frequent among integers above 2^53 (every fourth one is
    // a tie above 2^54), rare for decimals with several fraction digits, as prices are written.
    let abstained = 0;
    let runs = 0;
    fc.assert(
      fc.property(
        fc.stringMatching(/^[1-9][0-9]{15,18}$/),
        fc.integer({ min: 0, max: 22 }),
        (digits, rawScale) => {
          const scale = Math.min(rawScale, digits.length);
          const v = convert(digits, scale);
          if (scale >= 5) {
            runs++;
            if (Number.isNaN(v)) abstained++;
          }
          if (!Number.isNaN(v)) expect(v).toBe(Number(text(digits, scale)));
        },
      ),
      { numRuns: 20_000 },
    );
    expect(abstained / runs).toBeLessThan(0.001);
  });

  it("equals Number() for doubles printed in full", () => {
    fc.assert(
      fc.property(fc.double({ min: 1e-3, max: 1e6, noNaN: true }), (x) => {
        const printed = String(x);
        const [whole = "", frac = ""] = printed.split(".");
        if (printed.includes("e") || (whole + frac).replace(/^0+/, "").length < 16) return;
        const v = convert(whole + frac, frac.length);
        if (!Number.isNaN(v)) expect(v).toBe(x);
      }),
      { numRuns: 20_000 },
    );
  });

  it("abstains rather than guess on an exact halfway case", () => {
    // 2^53 + 1 lies exactly between two doubles; Number() rounds it to even (2^53).
    expect(convert("9007199254740993", 0)).toBeNaN();
    expect(convert("9007199254740995", 0)).toBeNaN();
    expect(convert("9007199254740994", 0)).toBe(2 ** 53 + 2);
  });
});

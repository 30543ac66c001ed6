/**
 * Correctly rounded decimal-to-double conversion for 16 to 19 significant digits, without making
 * a string. A double printed in full (what JavaScript, Python and most exporters write) has 17
 * digits: past the 15 digits of Clinger's fast path, and the CSV parser would otherwise build one
 * string per cell for Number(), which on a million-row file costs more than the rest of the parse.
 *
 * The integer mantissa m (below 10^19, so above 2^53) is held exactly as a double-double (mh + ml),
 * divided by the exact power of ten, and the remainder gives a correction c with q + c = m / 10^s.
 * The sum is rounded once. When the correction sits so close to a rounding boundary that its own
 * tiny error could flip the result, the answer is NaN and the caller falls back to Number().
 */

/** 10^0 .. 10^22: every one exactly representable as a double. */
export const POW10 = Array.from({ length: 23 }, (_, i) => 10 ** i);

/** 2^27 + 1: Veltkamp's constant, splitting a double into two 26-bit halves. */
const SPLITTER = 134217729;
/** Relative margin for the rounding check; the correction's own error is below 2^-50. */
const MARGIN = 2 ** -20;

/** The exact error a*b - fl(a*b) (Dekker's TwoProduct), given p = fl(a*b). */
function productError(a: number, b: number, p: number): number {
  let c = SPLITTER * a;
  const ah = c - (c - a);
  const al = a - ah;
  c = SPLITTER * b;
  const bh = c - (c - b);
  const bl = b - bh;
  return ah * bh - p + ah * bl + al * bh + al * bl;
}

/**
 * (hi * 10^loDigits + lo) / 10^scale, correctly rounded, for hi < 10^15, loDigits <= 4,
 * lo < 10^loDigits and scale <= 22; NaN when too close to call.
 */
export function decimalToDouble(hi: number, lo: number, loDigits: number, scale: number): number {
  const shift = POW10[loDigits] as number;
  const t = hi * shift;
  const te = productError(hi, shift, t);
  // m = t + te + lo exactly; all three are integers, and the two error terms are below 2^12.
  const s = t + lo;
  const back = s - t;
  const se = t - (s - back) + (lo - back);
  const small = se + te;
  const mh = s + small;
  const ml = small - (mh - s);
  const divisor = POW10[scale] as number;
  const q = mh / divisor;
  const qd = q * divisor;
  const remainder = mh - qd - productError(q, divisor, qd) + ml;
  const c = remainder / divisor;
  const low = q + c * (1 - MARGIN);
  return low === q + c * (1 + MARGIN) ? low : Number.NaN;
}

import { BAR_FIELDS, type Bar, type BarProblem, barProblems, isSoundBar } from "../bars.ts";
import { FeatureError } from "../features.ts";
import { describeValue, fieldPath, invalidField } from "./errors.ts";
import type { ServedModel } from "./model.ts";

/*
 * A row is one of three forms:
 *   {features: {name: value, ...}}  every feature of the model by name, nothing else
 *   {features: [value, ...]}        every feature in the artifact's order
 *   {bars: [{ts, open, high, low, close, volume}, ...]}  raw bars, oldest first, held to the rules
 *                                   training holds CSV rows to; the features of the last bar are
 *                                   computed by the code training used
 * Rows are decoded by hand rather than by a per-model JSON schema: one pass writes the values into
 * a preallocated buffer, and field paths for error messages are built only when there is an error,
 * so a valid row allocates nothing.
 */

/** The path of row `index` of a batch (`rows[3]`), or of the body itself for index -1. */
export function rowPath(index: number): string {
  return index < 0 ? "" : fieldPath("rows", index);
}

function featuresPath(index: number, key?: string | number): string {
  const path = fieldPath(rowPath(index), "features");
  return key === undefined ? path : fieldPath(path, key);
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function notFinite(field: string, value: unknown, what = ""): Error {
  return invalidField(field, `must be a finite number${what}, got ${describeValue(value)}`);
}

/**
 * A row by name in one for-in pass, where V8 reads each value by its place in the object rather
 * than looking its name up (half the time of the lookups by name). A key's feature is the one
 * expected next when the row follows the artifact's order, as rows usually do, else the map's.
 * Distinct keys, each a feature, as many as the features: every feature was written once.
 */
function decodeNamed(
  features: Record<string, unknown>,
  index: number,
  model: ServedModel,
  out: Float64Array,
): void {
  const names = model.features;
  let count = 0;
  for (const key in features) {
    const at = key === names[count] ? count : model.featureIndex.get(key);
    const value = features[key];
    if (at === undefined || !(typeof value === "number" && Number.isFinite(value))) {
      throw namedRowError(features, index, model);
    }
    out[at] = value;
    count++;
  }
  if (count !== names.length) throw namedRowError(features, index, model);
}

/**
 * What is wrong with a bad row by name, whatever its key order: the first feature at fault in the
 * artifact's order, else a key that is no feature.
 */
function namedRowError(features: Record<string, unknown>, index: number, model: ServedModel): Error {
  const names = model.features;
  for (const name of names) {
    const value = features[name];
    if (typeof value === "number" && Number.isFinite(value)) continue;
    if (Object.hasOwn(features, name)) return notFinite(featuresPath(index, name), value);
    return invalidField(featuresPath(index, name), `is required: the model takes ${names.join(", ")}`);
  }
  const extra = Object.keys(features).find((k) => !model.featureIndex.has(k)) as string;
  return invalidField(featuresPath(index, extra), `is not a feature of this model (${names.join(", ")})`);
}

function decodeOrdered(features: unknown[], index: number, model: ServedModel, out: Float64Array): void {
  const names = model.features;
  if (features.length !== names.length) {
    throw invalidField(
      featuresPath(index),
      `has ${features.length} values; the model takes ${names.length}: ${names.join(", ")}`,
    );
  }
  for (let i = 0; i < names.length; i++) {
    const value = features[i];
    if (typeof value === "number" && Number.isFinite(value)) out[i] = value;
    else throw notFinite(featuresPath(index, i), value, ` (${names[i]})`);
  }
}

function barsPath(index: number): string {
  return fieldPath(rowPath(index), "bars");
}

/** The path of bar `i` of a window, or of its field `key`: how errors name a bar wherever it came from. */
export type BarPath = (i: number, key?: string) => string;

/** Why bar `i` is not six finite numbers by name: the first field at fault. */
function malformedBar(bar: Record<string, unknown>, i: number, path: BarPath): Error {
  for (const key of BAR_FIELDS) {
    if (!Number.isFinite(bar[key])) return notFinite(path(i, key), bar[key]);
  }
  const extra = Object.keys(bar).find((k) => !(BAR_FIELDS as readonly string[]).includes(k)) as string;
  return invalidField(path(i, extra), `is not a bar field (${BAR_FIELDS.join(", ")})`);
}

/** One pass per bar: its fields, the rules training holds CSV rows to, and the order of the window. */
function checkBars(bars: unknown[], path: BarPath): asserts bars is Bar[] {
  let previousTs = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < bars.length; i++) {
    const bar = bars[i];
    if (!isRecord(bar)) {
      throw invalidField(path(i), `must be an object {${BAR_FIELDS.join(", ")}}, got ${describeValue(bar)}`);
    }
    const { ts, open, high, low, close, volume } = bar as unknown as Bar;
    let keys = 0;
    for (const _ in bar) keys++;
    const wellFormed =
      keys === BAR_FIELDS.length &&
      Number.isFinite(ts) &&
      Number.isFinite(open) &&
      Number.isFinite(high) &&
      Number.isFinite(low) &&
      Number.isFinite(close) &&
      Number.isFinite(volume);
    if (!wellFormed) throw malformedBar(bar, i, path);
    if (!isSoundBar(open, high, low, close, volume)) {
      const [first] = barProblems(open, high, low, close, volume) as [BarProblem];
      throw invalidField(path(i, first.column), first.message);
    }
    if (ts <= previousTs) {
      throw invalidField(
        path(i, "ts"),
        `must be after ${path(i - 1, "ts")} (bars oldest first, no duplicates)`,
      );
    }
    previousTs = ts;
  }
}

/**
 * Writes the features of the last bar of a window of raw bars into `out`, after holding every bar
 * to the rules training holds CSV rows to. `path` names a bar in errors, `windowPath` the window.
 */
export function decodeBarWindow(
  bars: unknown[],
  model: ServedModel,
  out: Float64Array,
  path: BarPath,
  windowPath: string,
): void {
  checkBars(bars, path);
  try {
    model.window.rowInto(bars, out);
  } catch (err) {
    if (err instanceof FeatureError) throw invalidField(windowPath, err.message);
    throw err;
  }
}

/**
 * Writes the feature values of one row into out[0, features). `index` is the row's
 * place in a batch, -1 for a single prediction. Throws a RequestError naming the field.
 */
export function decodeRow(row: unknown, index: number, model: ServedModel, out: Float64Array): void {
  if (!isRecord(row)) {
    throw invalidField(
      rowPath(index) || "body",
      `must be an object with "features" or "bars", got ${describeValue(row)}`,
    );
  }
  let keys = 0;
  for (const key in row) {
    keys++;
    if (key !== "features" && key !== "bars") {
      throw invalidField(
        fieldPath(rowPath(index), key),
        `is not a known field (a row has "features" or "bars")`,
      );
    }
  }
  if (keys !== 1)
    throw invalidField(rowPath(index) || "body", `must have exactly one of "features" or "bars"`);
  const { features, bars } = row;
  if (Array.isArray(features)) decodeOrdered(features, index, model, out);
  else if (isRecord(features)) decodeNamed(features, index, model, out);
  else if (features !== undefined) {
    throw invalidField(
      featuresPath(index),
      `must be an object by name or an array in order, got ${describeValue(features)}`,
    );
  } else if (Array.isArray(bars)) {
    const barsField = barsPath(index);
    const path: BarPath = (i, key) =>
      key === undefined ? fieldPath(barsField, i) : fieldPath(fieldPath(barsField, i), key);
    decodeBarWindow(bars, model, out, path, barsField);
  } else {
    throw invalidField(barsPath(index), `must be an array of bars, oldest first, got ${describeValue(bars)}`);
  }
}

import { predictRow } from "../artifact.ts";
import type { RequestError } from "./errors.ts";
import type { ServedModel } from "./model.ts";
import type { ServeState } from "./state.ts";

/*
 * What every prediction route does with its rows, whatever the protocol they came in: decode and
 * predict them all, then record them (feedback cache, drift window, counters). A route supplies
 * the decoding and how its errors name a row.
 */

/**
 * Decodes and predicts `count` rows before recording any, so that a bad row fails the request as
 * a whole and leaves no trace in the feedback cache, the drift window or the counters.
 * `decode(i, row)` writes row i's feature values into `row` or throws a RequestError naming the
 * field; `unpredictable(i)` is the error for a row whose prediction is not finite. The rows'
 * values are left in state.values for `record`.
 */
export function predictRows(
  state: ServeState,
  model: ServedModel,
  count: number,
  decode: (i: number, row: Float64Array) => void,
  unpredictable: (i: number) => RequestError,
): Float64Array {
  const n = model.features.length;
  const values = state.values(count * n);
  const predictions = state.predictions(count);
  const row = state.row(n);
  for (let i = 0; i < count; i++) {
    decode(i, row);
    const y = predictRow(model.artifact, row);
    if (!Number.isFinite(y)) throw unpredictable(i);
    // A loop, not values.set: a call per row of 6 values cost more than the copy.
    for (let k = 0; k < n; k++) values[i * n + k] = row[k] as number;
    predictions[i] = y;
  }
  return predictions;
}

/** Why a row's prediction is not finite, for `unpredictable`. */
export const NON_FINITE_PREDICTION =
  "gives a non-finite prediction: feature values far outside the model's range";

/**
 * Remembers the predictions for feedback and records the batch in the drift window and the
 * metrics, each once for all its rows (`newestBarTs`: the ts of the newest bar of its {bars}
 * rows, NaN when it has none); returns the first prediction's sequence number in the cache (ids:
 * state.cache.idOf).
 */
export function record(
  state: ServeState,
  count: number,
  predictions: Float64Array,
  newestBarTs = Number.NaN,
): number {
  state.drift?.addRows(state.values(0), predictions, count);
  state.metrics.rowsPredicted(predictions, count, newestBarTs);
  return state.cache.remember(predictions, count);
}

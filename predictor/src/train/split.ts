import { type RowRange, TrainError } from "./linear.ts";

/**
 * Time-ordered splits with a leakage guard. Row t's target spans bars t..t+h, so the last training
 * row's target reaches bar trainEnd - 1 + h. The holdout (or a walk-forward test block) starts
 * after that bar: `gapRows = h` rows are left out in between, and no holdout row can see a bar
 * that any training target used.
 */

export interface Split {
  train: RowRange;
  holdout: RowRange;
  gapRows: number;
}

/** Least rows in a holdout or test block: the interval needs residual quantiles of both halves. */
export const MIN_HOLDOUT_ROWS = 20;

/** Rows that have every feature and a known target: [firstValidRow, rows - horizon). */
export function usableRows(rows: number, firstValidRow: number, horizon: number): RowRange {
  return { start: firstValidRow, end: Math.max(firstValidRow, rows - horizon) };
}

function minTrainRows(features: number): number {
  return Math.max(2 * (features + 1), 30);
}

function tooFew(what: string, usable: RowRange, horizon: number, need: string): TrainError {
  return new TrainError(
    `too few rows for ${what}: ${usable.end - usable.start} usable rows (after the features' lookback of ${usable.start} rows and the ${horizon}-bar target horizon); ${need}`,
  );
}

export function holdoutSplit(
  usable: RowRange,
  horizon: number,
  holdoutFraction: number,
  features: number,
): Split {
  const available = usable.end - usable.start - horizon;
  const holdoutRows = Math.floor(available * holdoutFraction);
  const trainRows = available - holdoutRows;
  if (holdoutRows < MIN_HOLDOUT_ROWS || trainRows < minTrainRows(features)) {
    throw tooFew(
      "a holdout split",
      usable,
      horizon,
      `need ${minTrainRows(features)} training and ${MIN_HOLDOUT_ROWS} holdout rows plus ${horizon} gap rows`,
    );
  }
  const trainEnd = usable.start + trainRows;
  return {
    train: { start: usable.start, end: trainEnd },
    holdout: { start: trainEnd + horizon, end: usable.end },
    gapRows: horizon,
  };
}

/**
 * Expanding-window walk-forward: the usable rows are cut into folds + 1 equal blocks; fold i trains
 * on blocks 0..i-1 and tests on block i, minus the gap rows at the start of the test block.
 */
export function walkForwardSplits(
  usable: RowRange,
  horizon: number,
  folds: number,
  features: number,
): Split[] {
  const block = Math.floor((usable.end - usable.start) / (folds + 1));
  if (block - horizon < MIN_HOLDOUT_ROWS || block < minTrainRows(features)) {
    throw tooFew(
      `${folds} walk-forward folds`,
      usable,
      horizon,
      `each of ${folds + 1} blocks needs ${Math.max(MIN_HOLDOUT_ROWS + horizon, minTrainRows(features))} rows`,
    );
  }
  return Array.from({ length: folds }, (_, f) => {
    const trainEnd = usable.start + (f + 1) * block;
    const testEnd = f === folds - 1 ? usable.end : trainEnd + block;
    return {
      train: { start: usable.start, end: trainEnd },
      holdout: { start: trainEnd + horizon, end: testEnd },
      gapRows: horizon,
    };
  });
}

import type { HoldoutMetrics, ModelArtifact } from "../artifact.ts";
import type { BarColumns } from "../bars.ts";
import { predictRange, type RowRange, TrainError } from "./linear.ts";
import { coverage, holdoutMetrics } from "./metrics.ts";
import { buildDesign } from "./train.ts";

/**
 * The current stable model (champion) judged on the candidate's holdout rows, with its own feature
 * list and its own served interval, so the operator compares champion and challenger like for like.
 */
export function evaluateChampion(
  champion: ModelArtifact,
  bars: BarColumns,
  holdout: RowRange,
  horizon: number,
): HoldoutMetrics {
  if (champion.target.horizon !== horizon) {
    throw new TrainError(
      `champion predicts a ${champion.target.horizon}-bar horizon but spec.target.horizon is ${horizon}; champion and challenger must share the target`,
    );
  }
  const design = buildDesign(bars, champion.features, horizon);
  if (design.usable.start > holdout.start) {
    throw new TrainError(
      `champion features need ${design.usable.start + 1} bars of history but the holdout starts at row ${holdout.start + 1}`,
    );
  }
  const predicted = predictRange(champion, design.columns, holdout);
  const actual = design.target.subarray(holdout.start, holdout.end);
  return holdoutMetrics(predicted, actual, coverage(predicted, actual, champion.interval));
}

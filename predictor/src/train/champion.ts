import type { HoldoutMetrics, ModelArtifact, StrategySettings } from "../artifact.ts";
import type { BarColumns } from "../bars.ts";
import { compareMeans, type MeanComparison } from "./compare.ts";
import { predictRange, type RowRange, TrainError } from "./linear.ts";
import { coverage } from "./metrics.ts";
import { buildDesign, judge } from "./train.ts";

export interface ChampionEvaluation {
  metrics: HoldoutMetrics;
  /** Candidate minus champion in mean strategy return per bar, corrected for autocorrelation. */
  strategyComparison: MeanComparison;
}

/**
 * The current stable model (champion) judged on the candidate's holdout rows, with its own feature
 * list and its own served interval, so the operator compares champion and challenger like for like.
 * Both are backtested with the candidate's strategy settings: the strategy is the spec's, not the
 * model's.
 */
export function evaluateChampion(
  champion: ModelArtifact,
  bars: BarColumns,
  holdout: RowRange,
  horizon: number,
  strategy: StrategySettings,
  candidateReturns: Float64Array,
): ChampionEvaluation {
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
  const { metrics, strategyReturns } = judge(
    predicted,
    actual,
    bars,
    holdout,
    strategy,
    coverage(predicted, actual, champion.interval),
  );
  return { metrics, strategyComparison: compareMeans(candidateReturns, strategyReturns) };
}

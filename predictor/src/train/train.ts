import {
  ARTIFACT_SCHEMA_VERSION,
  type HoldoutMetrics,
  type ModelArtifact,
  type StrategySettings,
} from "../artifact.ts";
import type { BarColumns } from "../bars.ts";
import type { ValidationReport } from "../data/validate.ts";
import { referenceDistribution } from "../drift.ts";
import { computeFeatures, FeatureError, forwardReturn } from "../features.ts";
import { backtest } from "./backtest.ts";
import { fitLinear, fitScaler, predictRange, type RowRange } from "./linear.ts";
import { holdoutMetrics, residualInterval, splitHalfCoverage } from "./metrics.ts";
import type { TrainSpec } from "./spec.ts";
import { holdoutSplit, type Split, usableRows, walkForwardSplits } from "./split.ts";

/** Validated bars and where they came from. */
export interface TrainingData {
  columns: BarColumns;
  sha256: string;
  report: ValidationReport;
}

/** Features and target over all rows, computed once and shared by the fit and every evaluation. */
export interface Design {
  columns: Float64Array[];
  target: Float64Array;
  usable: RowRange;
}

/**
 * Throws FeatureError at the first usable bar where a feature or the target is not finite: bars
 * that pass validation can still overflow (prices near 1e308 summed in a window), and one such
 * value would poison every sum of the fit and surface as a misleading "constant feature".
 */
function checkFinite(design: Design, bars: BarColumns, features: readonly string[]): void {
  const { start, end } = design.usable;
  const named: [string, Float64Array][] = features.map((f, i) => [
    `feature "${f}"`,
    design.columns[i] as Float64Array,
  ]);
  named.push([`the target (forward return)`, design.target]);
  for (const [what, column] of named) {
    for (let t = start; t < end; t++) {
      if (Number.isFinite(column[t])) continue;
      const ts = new Date(bars.ts[t] as number).toISOString();
      throw new FeatureError(
        `${what} is not finite at bar ${t} (ts ${ts}): the bars' values are beyond what double arithmetic holds`,
      );
    }
  }
}

export function buildDesign(bars: BarColumns, features: readonly string[], horizon: number): Design {
  const { columns, firstValidRow } = computeFeatures(bars, features);
  const design = {
    columns,
    target: forwardReturn(bars, horizon),
    usable: usableRows(bars.length, firstValidRow, horizon),
  };
  checkFinite(design, bars, features);
  return design;
}

function fitOn(
  spec: TrainSpec,
  design: Design,
  rows: RowRange,
): Pick<ModelArtifact, "coefficients" | "scaler"> {
  const scaler = fitScaler(design.columns, spec.features, rows);
  const alpha = spec.algorithm.type === "ridge" ? spec.algorithm.alpha : 0;
  const coefficients = fitLinear(design.columns, spec.features, design.target, rows, scaler, alpha);
  return { coefficients, scaler };
}

/**
 * A model's predictions on rows judged against the targets, with the walk-forward backtest of the
 * strategy over the same rows; the strategy's per-bar returns are kept for the champion comparison.
 */
export function judge(
  predicted: Float64Array,
  actual: Float64Array,
  bars: BarColumns,
  rows: RowRange,
  strategy: StrategySettings,
  intervalCoverage: number,
): { metrics: HoldoutMetrics; strategyReturns: Float64Array } {
  const run = backtest(
    { predictions: predicted, close: bars.close, ts: bars.ts, rows, targets: actual },
    strategy,
  );
  return {
    metrics: { ...holdoutMetrics(predicted, actual, intervalCoverage), strategy: run.metrics },
    strategyReturns: run.returns,
  };
}

function evaluate(
  model: Pick<ModelArtifact, "coefficients" | "scaler">,
  design: Design,
  bars: BarColumns,
  split: Split,
  spec: TrainSpec["training"],
): {
  metrics: HoldoutMetrics;
  strategyReturns: Float64Array;
  interval: ModelArtifact["interval"];
  predicted: Float64Array;
} {
  const predicted = predictRange(model, design.columns, split.holdout);
  const actual = design.target.subarray(split.holdout.start, split.holdout.end);
  const level = spec.intervalLevel;
  return {
    ...judge(
      predicted,
      actual,
      bars,
      split.holdout,
      spec.strategy,
      splitHalfCoverage(predicted, actual, level),
    ),
    interval: residualInterval(predicted, actual, level),
    predicted,
  };
}

/**
 * Fits the model on the time-ordered training rows and judges it on the holdout. Pure: the same
 * data and spec give the same artifact, to the byte once serialized.
 */
export function trainModel(
  spec: TrainSpec,
  data: TrainingData,
  codeVersion: string,
): { artifact: ModelArtifact; split: Split; strategyReturns: Float64Array } {
  const { horizon } = spec.target;
  const t = spec.training;
  const design = buildDesign(data.columns, spec.features, horizon);
  const split = holdoutSplit(design.usable, horizon, t.holdoutFraction, spec.features.length);
  const model = fitOn(spec, design, split.train);
  const bars = data.columns;
  const { metrics, interval, strategyReturns, predicted } = evaluate(model, design, bars, split, t);

  const walkForward = t.walkForward && {
    folds: t.walkForward.folds,
    metrics: walkForwardSplits(design.usable, horizon, t.walkForward.folds, spec.features.length).map(
      (fold) => evaluate(fitOn(spec, design, fold.train), design, bars, fold, t).metrics,
    ),
  };

  const reference = Object.fromEntries(
    spec.features.map((name, i) => [
      name,
      referenceDistribution((design.columns[i] as Float64Array).subarray(split.train.start, split.train.end)),
    ]),
  );
  const artifact: ModelArtifact = {
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    features: [...spec.features],
    target: { kind: "forwardReturn", horizon },
    algorithm: spec.algorithm,
    coefficients: model.coefficients,
    scaler: model.scaler,
    interval,
    reference,
    predictionReference: referenceDistribution(predicted),
    split: {
      trainRows: split.train.end - split.train.start,
      holdoutRows: split.holdout.end - split.holdout.start,
      gapRows: split.gapRows,
      holdoutFraction: t.holdoutFraction,
      ...(walkForward ? { walkForward } : {}),
    },
    metrics,
    strategy: t.strategy,
    data: {
      sha256: data.sha256,
      rows: bars.length,
      droppedRows: data.report.droppedRows,
      firstTs: bars.ts[0] as number,
      lastTs: bars.ts[bars.length - 1] as number,
    },
    codeVersion,
  };
  return { artifact, split, strategyReturns };
}

import type { Algorithm } from "../../../predictor/src/artifact.ts";
import type { DataSourceSpec } from "../../../predictor/src/data/source.ts";
import type { TrainSpec } from "../../../predictor/src/train/spec.ts";
import { toRuntimeEnum } from "../api/training.ts";
import type { TradingModelSpec } from "../api/types.ts";

/** Where the training Job mounts a `configMapRef` data source. */
export const DATA_MOUNT_PATH = "/data";

type TrainingSpec = TradingModelSpec["training"];

function algorithm(spec: TradingModelSpec["algorithm"]): Algorithm {
  if (spec.type === "Linear") return { type: "linear" };
  if (spec.alpha === undefined) throw new Error("spec.algorithm.alpha: required when type is Ridge");
  return { type: "ridge", alpha: spec.alpha };
}

function dataSource(data: TrainingSpec["data"]): DataSourceSpec {
  if (data.synthetic) {
    const { regime, ...rest } = data.synthetic;
    return { synthetic: { ...rest, regime: toRuntimeEnum(regime) } };
  }
  if (data.url !== undefined) return { url: data.url };
  if (data.configMapRef) return { path: `${DATA_MOUNT_PATH}/${data.configMapRef.key}` };
  throw new Error("spec.training.data: exactly one of synthetic, url, configMapRef must be set");
}

/**
 * The `predictor train --spec` document for a TradingModel: the runtime's TrainSpec, typed against
 * the runtime's own declaration so that a change on either side fails the type check.
 */
export function trainerSpec(spec: TradingModelSpec): TrainSpec {
  const t = spec.training;
  return {
    features: [...spec.features],
    target: { horizon: spec.target.horizon },
    algorithm: algorithm(spec.algorithm),
    training: {
      data: dataSource(t.data),
      holdoutFraction: t.holdoutFraction,
      ...(t.walkForward ? { walkForward: { folds: t.walkForward.folds } } : {}),
      nonFinite: toRuntimeEnum(t.nonFinite),
      minRows: t.minRows,
      intervalLevel: t.intervalLevel,
      strategy: { ...t.strategy },
    },
  };
}

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import {
  ARTIFACT_SCHEMA_VERSION,
  type ModelArtifact,
  serializeArtifact,
} from "../../../predictor/src/artifact.ts";
import { admit } from "../api/local-admission.ts";
import { tradingModelSchema } from "../api/tradingmodel.ts";
import type { HoldoutMetrics, ModelVersion, TradingModel } from "../api/types.ts";

/** Test fixtures built the way the operator meets them: defaulted by the schema, artifacts serialized by the runtime. */

const examples = join(import.meta.dirname, "..", "..", "..", "examples");

/** An example TradingModel as the apiserver stores it (defaults applied), with `edit` applied first. */
export function storedModel(
  file = "spy-momentum.yaml",
  edit: (raw: { metadata: Record<string, unknown>; spec: Record<string, unknown> }) => void = () => {},
): TradingModel {
  const raw = parse(readFileSync(join(examples, file), "utf8"));
  raw.metadata = { ...raw.metadata, uid: "0b9f7c1e-0000-4000-8000-000000000001", generation: 1 };
  edit(raw);
  const { object, errors } = admit(tradingModelSchema, raw);
  if (errors.length > 0) throw new Error(`fixture is invalid: ${JSON.stringify(errors)}`);
  return object as TradingModel;
}

/** A ModelVersion of `spy-momentum` as the apiserver stores it. */
export function storedVersion(version = 3): ModelVersion {
  return {
    apiVersion: "trading.mlops.dev/v1alpha1",
    kind: "ModelVersion",
    metadata: { name: `spy-momentum-v${version}`, namespace: "trading", uid: `uid-v${version}` },
    spec: {
      model: "spy-momentum",
      version,
      dataSha256: "e".repeat(64),
      codeVersion: "0.1.0",
      params: {
        features: ["ret_1"],
        target: { horizon: 1 },
        algorithm: { type: "Linear" },
        holdoutFraction: 0.2,
        trainingHash: "h",
      },
      artifact: {
        configMapRef: { name: `spy-momentum-artifact-v${version}`, key: "artifact.json" },
        sha256: "a".repeat(64),
        sizeBytes: 3000,
      },
      ...(version > 1 ? { parentVersion: version - 1 } : {}),
    },
  };
}

export function metrics(over: Partial<HoldoutMetrics> = {}): HoldoutMetrics {
  return {
    samples: 9000,
    r2: 0.012,
    rmse: 0.0021,
    mae: 0.0016,
    directionalAccuracy: 0.534,
    informationCoefficient: 0.081,
    intervalCoverage: 0.9,
    strategy: {
      bars: 9000,
      barsPerYear: 525960,
      sharpe: 2.5,
      sortino: 3.6,
      maxDrawdown: 0.04,
      hitRate: 0.53,
      exposure: 1,
      turnover: 0.4,
      cumulativeReturn: 0.03,
      predictionCorrelation: 0.08,
    },
    ...over,
  };
}

/** An artifact file as `predictor train` writes it, with its real sha256. */
export function artifactText(model: TradingModel, holdout: HoldoutMetrics = metrics()): string {
  const features = model.spec.features;
  const artifact: ModelArtifact = {
    schemaVersion: ARTIFACT_SCHEMA_VERSION,
    features: [...features],
    target: { kind: "forwardReturn", horizon: model.spec.target.horizon },
    algorithm:
      model.spec.algorithm.type === "Ridge"
        ? { type: "ridge", alpha: model.spec.algorithm.alpha ?? 1 }
        : { type: "linear" },
    coefficients: { intercept: 0.0001, weights: features.map((_, i) => 0.001 * (i + 1)) },
    scaler: { mean: features.map(() => 0), std: features.map(() => 1) },
    interval: { level: 0.9, lower: -0.003, upper: 0.003 },
    reference: {},
    split: { trainRows: 36000, holdoutRows: holdout.samples, gapRows: 1, holdoutFraction: 0.2 },
    metrics: holdout,
    data: { sha256: "e".repeat(64), rows: 50000, droppedRows: 0, firstTs: 0, lastTs: 1 },
    codeVersion: "0.1.0",
  };
  return serializeArtifact(artifact);
}

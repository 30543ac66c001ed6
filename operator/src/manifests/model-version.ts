import type { ModelArtifact } from "../../../predictor/src/artifact.ts";
import { API_VERSION } from "../api/crd.ts";
import { toApiEnum } from "../api/training.ts";
import type { Manifest, ModelVersion, ModelVersionStatus, Stage, TradingModel } from "../api/types.ts";
import { ARTIFACT_KEY, artifactConfigMapName, labels, modelVersionName } from "./names.ts";
import { ownedBy } from "./owner.ts";

export interface ModelVersionInput {
  model: TradingModel;
  version: number;
  artifact: ModelArtifact;
  artifactSha256: string;
  artifactBytes: number;
  trainingHash: string;
  /** The stable version when this one was trained. */
  parentVersion?: number;
}

/** The registry entry of a trained version: lineage and artifact, from the artifact itself. */
export function modelVersion(input: ModelVersionInput): Manifest<ModelVersion> {
  const { model, version, artifact } = input;
  const name = model.metadata.name;
  return {
    apiVersion: API_VERSION,
    kind: "ModelVersion",
    metadata: {
      name: modelVersionName(name, version),
      namespace: model.metadata.namespace,
      labels: labels(name, "artifact", { version }),
      ownerReferences: ownedBy(model.metadata),
    },
    spec: {
      model: name,
      version,
      dataSha256: artifact.data.sha256,
      codeVersion: artifact.codeVersion,
      params: {
        features: [...artifact.features],
        target: { horizon: artifact.target.horizon },
        algorithm:
          artifact.algorithm.type === "ridge"
            ? { type: "Ridge", alpha: artifact.algorithm.alpha }
            : { type: toApiEnum(artifact.algorithm.type) },
        holdoutFraction: artifact.split.holdoutFraction,
        trainingHash: input.trainingHash,
      },
      artifact: {
        configMapRef: { name: artifactConfigMapName(name, version), key: ARTIFACT_KEY },
        sha256: input.artifactSha256,
        sizeBytes: input.artifactBytes,
      },
      ...(input.parentVersion === undefined ? {} : { parentVersion: input.parentVersion }),
    },
  };
}

const MAX_HISTORY = 32;

/** The status after a stage change, keeping the newest entries within the schema's history bound. */
export function withStage(
  status: ModelVersionStatus | undefined,
  change: { stage: Stage; reason: string; message: string },
  now: Date,
): ModelVersionStatus {
  const history = [...(status?.stageHistory ?? []), { ...change, time: now.toISOString() }];
  return { ...status, stage: change.stage, stageHistory: history.slice(-MAX_HISTORY) };
}

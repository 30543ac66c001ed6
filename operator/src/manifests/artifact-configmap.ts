import type { V1ConfigMap } from "@kubernetes/client-node";
import { parseArtifact } from "../../../predictor/src/artifact.ts";
import { ARTIFACT_KEY, artifactConfigMapName, labels } from "./names.ts";
import { ownedBy } from "./owner.ts";

/**
 * A ConfigMap's data must stay under 1 MiB in total (etcd's object limit); keep headroom for the
 * object's metadata. A linear model's artifact is a few kilobytes per feature; beyond this limit
 * the artifact belongs in an object store (see docs/operator.md, Training Jobs and artifacts).
 */
export const MAX_ARTIFACT_BYTES = 1024 * 1024 - 16 * 1024;

export class ArtifactTooLargeError extends Error {
  override name = "ArtifactTooLargeError";
}

export interface ArtifactConfigMapInput {
  model: { name: string; namespace: string; uid: string };
  version: number;
  /** The artifact file exactly as `predictor train` wrote it. */
  artifactText: string;
}

/**
 * The immutable ConfigMap holding one version's artifact, owned by the TradingModel. Refuses an
 * artifact that does not verify (so a truncated file never gets stored) or that does not fit.
 */
export function artifactConfigMap(input: ArtifactConfigMapInput): V1ConfigMap {
  const size = Buffer.byteLength(input.artifactText, "utf8");
  if (size > MAX_ARTIFACT_BYTES) {
    throw new ArtifactTooLargeError(
      `artifact of v${input.version} is ${size} bytes, above the ${MAX_ARTIFACT_BYTES}-byte ConfigMap budget`,
    );
  }
  const { sha256 } = parseArtifact(input.artifactText);
  const { name, namespace, uid } = input.model;
  return {
    apiVersion: "v1",
    kind: "ConfigMap",
    metadata: {
      name: artifactConfigMapName(name, input.version),
      namespace,
      labels: labels(name, "artifact", { version: input.version }),
      annotations: {
        "trading.mlops.dev/artifact-sha256": sha256,
        "trading.mlops.dev/artifact-bytes": String(size),
      },
      ownerReferences: ownedBy({ name, uid }),
    },
    immutable: true,
    data: { [ARTIFACT_KEY]: input.artifactText },
  };
}

import {
  ArtifactError,
  type ArtifactFile,
  type ModelArtifact,
  type ReferenceDistribution,
} from "../artifact.ts";
import { FeatureWindow } from "../features.ts";

/** The loaded model and what serving derives from it once, at load time. */
export interface ServedModel {
  artifact: ModelArtifact;
  sha256: string;
  features: readonly string[];
  /** Each feature's place in `features`, by name. */
  featureIndex: ReadonlyMap<string, number>;
  /** Computes a `{bars}` row's features; its lookback is the bars such a row needs. */
  window: FeatureWindow;
}

function finite(value: unknown, field: string): void {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw new ArtifactError(`artifact field ${field} must be a finite number, got ${String(value)}`);
  }
}

function finiteArray(value: unknown, length: number, field: string): void {
  if (!Array.isArray(value) || value.length !== length) {
    throw new ArtifactError(`artifact field ${field} must be an array of ${length} finite numbers`);
  }
  value.forEach((v, i) => {
    finite(v, `${field}[${i}]`);
  });
}

function checkReference(ref: ReferenceDistribution | undefined, field: string): void {
  if (!ref || !Array.isArray(ref.edges) || !Array.isArray(ref.proportions)) {
    throw new ArtifactError(`artifact field ${field} must have edges and proportions`);
  }
  finiteArray(ref.proportions, ref.edges.length + 1, `${field}.proportions`);
  ref.edges.forEach((e, i) => {
    finite(e, `${field}.edges[${i}]`);
    if (i > 0 && e < (ref.edges[i - 1] as number)) {
      throw new ArtifactError(`artifact field ${field}.edges must be ascending (at index ${i})`);
    }
  });
}

/**
 * The sha256 proves the artifact is the one trained, not that the trainer wrote a servable model:
 * check the shape serving relies on, naming the field, before turning ready.
 */
export function servedModel(file: ArtifactFile): ServedModel {
  const a = file.artifact;
  if (!Array.isArray(a.features) || a.features.length === 0) {
    throw new ArtifactError("artifact field features must be a non-empty array of feature names");
  }
  const featureIndex = new Map<string, number>();
  for (const [i, name] of a.features.entries()) {
    if (typeof name !== "string" || name === "" || featureIndex.has(name)) {
      throw new ArtifactError(
        `artifact field features[${i}] must be a unique non-empty name, got ${String(name)}`,
      );
    }
    featureIndex.set(name, i);
  }
  let window: FeatureWindow;
  try {
    window = new FeatureWindow(a.features);
  } catch (err) {
    throw new ArtifactError(`artifact field features: ${(err as Error).message}`);
  }
  const n = a.features.length;
  finite(a.coefficients?.intercept, "coefficients.intercept");
  finiteArray(a.coefficients?.weights, n, "coefficients.weights");
  finiteArray(a.scaler?.mean, n, "scaler.mean");
  finiteArray(a.scaler?.std, n, "scaler.std");
  a.scaler.std.forEach((s, i) => {
    if (s <= 0) throw new ArtifactError(`artifact field scaler.std[${i}] must be > 0, got ${s}`);
  });
  finite(a.interval?.lower, "interval.lower");
  finite(a.interval?.upper, "interval.upper");
  finite(a.interval?.level, "interval.level");
  for (const name of a.features) checkReference(a.reference?.[name], `reference.${name}`);
  if (a.predictionReference !== undefined) checkReference(a.predictionReference, "predictionReference");
  return { artifact: a, sha256: file.sha256, features: a.features, featureIndex, window };
}

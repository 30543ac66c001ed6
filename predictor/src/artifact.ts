import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";

export const ARTIFACT_SCHEMA_VERSION = 1;

export type Algorithm = { type: "linear" } | { type: "ridge"; alpha: number };

/** Decile edges (9 inner cut points) and the share of training rows in each of the 10 bins. */
export interface ReferenceDistribution {
  edges: number[];
  proportions: number[];
}

export interface HoldoutMetrics {
  samples: number;
  r2: number;
  rmse: number;
  mae: number;
  directionalAccuracy: number;
  informationCoefficient: number;
  /** Share of holdout targets inside the prediction interval. */
  intervalCoverage: number;
  /** The walk-forward backtest of the artifact's strategy over the same rows (train/backtest.ts). */
  strategy?: StrategyMetrics;
}

/**
 * The strategy a model is judged and monitored by: flat when |prediction| <= band, else
 * sign(prediction) * positionLimit; costBps charged per unit of position traded.
 */
export interface StrategySettings {
  band: number;
  positionLimit: number;
  costBps: number;
}

/** A backtest's results, after costs; Sharpe and Sortino annualized by the observed bars per year. */
export interface StrategyMetrics {
  bars: number;
  barsPerYear: number;
  sharpe: number;
  sortino: number;
  /** Largest fall of compounded equity from its running peak, as a fraction of the peak. */
  maxDrawdown: number;
  /** Share of the bars in the market whose return before costs was positive. */
  hitRate: number;
  /** Share of the bars in the market (position not 0). */
  exposure: number;
  /** Mean |position change| per bar. */
  turnover: number;
  cumulativeReturn: number;
  /** Pearson correlation of the predictions with the returns they predicted. */
  predictionCorrelation: number;
}

/**
 * The trained model. Everything needed to serve it and to judge it, and nothing that varies
 * between two runs on the same data and spec (no wall-clock time), so artifacts are reproducible.
 */
export interface ModelArtifact {
  schemaVersion: typeof ARTIFACT_SCHEMA_VERSION;
  features: string[];
  target: { kind: "forwardReturn"; horizon: number };
  algorithm: Algorithm;
  /** Coefficients on standardized features: y = intercept + sum_i weights[i] * (x_i - mean_i) / std_i. */
  coefficients: { intercept: number; weights: number[] };
  scaler: { mean: number[]; std: number[] };
  /** Holdout residual quantiles: interval = [y + lower, y + upper] at the nominal `level`. */
  interval: { level: number; lower: number; upper: number };
  /** Per feature, the training distribution used for drift (PSI) at serving time. */
  reference: Record<string, ReferenceDistribution>;
  /**
   * The distribution of the model's own predictions on the holdout, which served predictions are
   * compared with; absent from artifacts trained before it was recorded.
   */
  predictionReference?: ReferenceDistribution;
  split: {
    trainRows: number;
    holdoutRows: number;
    /** Rows dropped between train and holdout so no training target overlaps the holdout. */
    gapRows: number;
    holdoutFraction: number;
    walkForward?: { folds: number; metrics: HoldoutMetrics[] };
  };
  metrics: HoldoutMetrics;
  /**
   * The strategy the holdout was backtested with and the predictor scores feedback with. Optional
   * within schema version 1: artifacts written before it load, and are served with the defaults.
   */
  strategy?: StrategySettings;
  data: { sha256: string; rows: number; droppedRows: number; firstTs: number; lastTs: number };
  codeVersion: string;
}

/** The artifact file: the model plus the sha256 of its canonical serialization. */
export interface ArtifactFile {
  sha256: string;
  artifact: ModelArtifact;
}

/** JSON with object keys sorted at every level: the same artifact always serializes to the same bytes. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) => {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const sorted: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) sorted[k] = (v as Record<string, unknown>)[k];
      return sorted;
    }
    return v;
  });
}

export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

export function serializeArtifact(artifact: ModelArtifact): string {
  const body = canonicalJson(artifact);
  return `${canonicalJson({ artifact: JSON.parse(body), sha256: sha256Hex(body) })}\n`;
}

export class ArtifactError extends Error {
  override name = "ArtifactError";
}

/**
 * Parses and verifies an artifact file: its embedded sha256 must match its content and, when the
 * caller knows which artifact it expects (the operator passes the ModelVersion's sha256), that too.
 */
export function parseArtifact(text: string, expectedSha256?: string): ArtifactFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ArtifactError(`artifact is not valid JSON: ${(err as Error).message}`);
  }
  const file = parsed as Partial<ArtifactFile>;
  if (!file || typeof file !== "object" || typeof file.sha256 !== "string" || !file.artifact) {
    throw new ArtifactError("artifact must be an object with fields 'sha256' and 'artifact'");
  }
  const actual = sha256Hex(canonicalJson(file.artifact));
  if (actual !== file.sha256) {
    throw new ArtifactError(
      `artifact sha256 mismatch: file says ${file.sha256}, content hashes to ${actual}`,
    );
  }
  if (expectedSha256 && expectedSha256 !== actual) {
    throw new ArtifactError(`artifact sha256 ${actual} is not the expected ${expectedSha256}`);
  }
  if (file.artifact.schemaVersion !== ARTIFACT_SCHEMA_VERSION) {
    throw new ArtifactError(
      `artifact schemaVersion ${String(file.artifact.schemaVersion)} is not supported (want ${ARTIFACT_SCHEMA_VERSION})`,
    );
  }
  return file as ArtifactFile;
}

export async function loadArtifact(path: string, expectedSha256?: string): Promise<ArtifactFile> {
  return parseArtifact(await readFile(path, "utf8"), expectedSha256);
}

/**
 * Point prediction for one row of raw (unstandardized) feature values in artifact order. The
 * trainer scores its holdout with this same function, so served and evaluated predictions agree.
 */
export function predictRow(
  artifact: Pick<ModelArtifact, "coefficients" | "scaler">,
  x: ArrayLike<number>,
): number {
  const { weights, intercept } = artifact.coefficients;
  const { mean, std } = artifact.scaler;
  let y = intercept;
  for (let i = 0; i < weights.length; i++) {
    y += (weights[i] as number) * (((x[i] as number) - (mean[i] as number)) / (std[i] as number));
  }
  return y;
}

import { CholeskyDecomposition, Matrix } from "ml-matrix";
import { type ModelArtifact, predictRow } from "../artifact.ts";

/**
 * OLS and ridge from sufficient statistics. Features are standardized (population std, as
 * scikit-learn's StandardScaler), then one pass over the rows accumulates ZᵀZ and Zᵀ(y - ȳ), and
 * the k×k system (ZᵀZ + αI) w = Zᵀ(y - ȳ) is solved by Cholesky. The intercept is ȳ because Z is
 * centered. Memory is O(k²) whatever the row count, and the pass is a tight loop over typed
 * arrays, which is what makes 1M-row training fast. Ridge's α therefore penalizes standardized
 * weights: it equals scikit-learn's `make_pipeline(StandardScaler(), Ridge(alpha))`.
 */

/** Half-open row range [start, end) of the feature and target columns. */
export interface RowRange {
  start: number;
  end: number;
}

export interface Scaler {
  mean: number[];
  std: number[];
}

export interface LinearModel {
  intercept: number;
  /** Weights on standardized features. */
  weights: number[];
}

export class TrainError extends Error {
  override name = "TrainError";
}

function columnMean(x: Float64Array, rows: RowRange): number {
  let sum = 0;
  for (let t = rows.start; t < rows.end; t++) sum += x[t] as number;
  return sum / (rows.end - rows.start);
}

/** Mean and population std per feature over `rows`; a constant feature is an error naming it. */
export function fitScaler(
  columns: readonly Float64Array[],
  names: readonly string[],
  rows: RowRange,
): Scaler {
  const mean: number[] = [];
  const std: number[] = [];
  columns.forEach((x, i) => {
    const m = columnMean(x, rows);
    let ss = 0;
    for (let t = rows.start; t < rows.end; t++) {
      const d = (x[t] as number) - m;
      ss += d * d;
    }
    const s = Math.sqrt(ss / (rows.end - rows.start));
    if (!(s > 0)) {
      throw new TrainError(
        `feature "${names[i]}" is constant on the training rows; it carries no information`,
      );
    }
    mean.push(m);
    std.push(s);
  });
  return { mean, std };
}

/** Accumulates ZᵀZ (upper triangle) and Zᵀ(y - ȳ) in one pass over `rows`. */
function sufficientStatistics(
  columns: readonly Float64Array[],
  target: Float64Array,
  rows: RowRange,
  scaler: Scaler,
  yMean: number,
): { zz: Float64Array; zy: Float64Array } {
  const k = columns.length;
  const zz = new Float64Array(k * k);
  const zy = new Float64Array(k);
  const z = new Float64Array(k);
  const inv = scaler.std.map((s) => 1 / s);
  for (let t = rows.start; t < rows.end; t++) {
    for (let i = 0; i < k; i++) {
      z[i] = ((columns[i] as Float64Array)[t] as number) - (scaler.mean[i] as number);
      z[i] = (z[i] as number) * (inv[i] as number);
    }
    const y = (target[t] as number) - yMean;
    for (let i = 0; i < k; i++) {
      const zi = z[i] as number;
      zy[i] = (zy[i] as number) + zi * y;
      const row = i * k;
      for (let j = i; j < k; j++) zz[row + j] = (zz[row + j] as number) + zi * (z[j] as number);
    }
  }
  return { zz, zy };
}

export function fitLinear(
  columns: readonly Float64Array[],
  names: readonly string[],
  target: Float64Array,
  rows: RowRange,
  scaler: Scaler,
  alpha: number,
): LinearModel {
  const k = columns.length;
  const yMean = columnMean(target, rows);
  const { zz, zy } = sufficientStatistics(columns, target, rows, scaler, yMean);
  const a = new Matrix(k, k);
  for (let i = 0; i < k; i++) {
    for (let j = i; j < k; j++) {
      const v = (zz[i * k + j] as number) + (i === j ? alpha : 0);
      a.set(i, j, v);
      a.set(j, i, v);
    }
  }
  const cholesky = new CholeskyDecomposition(a);
  if (!cholesky.isPositiveDefinite()) {
    throw new TrainError(
      `features ${names.map((n) => `"${n}"`).join(", ")} are collinear on the training rows; remove one or use ridge with alpha > 0`,
    );
  }
  const w = cholesky.solve(Matrix.columnVector(Array.from(zy))).getColumn(0);
  return { intercept: yMean, weights: w };
}

/** Predictions for `rows`, computed by the serving code path (`predictRow`). */
export function predictRange(
  model: Pick<ModelArtifact, "coefficients" | "scaler">,
  columns: readonly Float64Array[],
  rows: RowRange,
): Float64Array {
  const out = new Float64Array(rows.end - rows.start);
  const x = new Float64Array(columns.length);
  for (let t = rows.start; t < rows.end; t++) {
    for (let i = 0; i < columns.length; i++) x[i] = (columns[i] as Float64Array)[t] as number;
    out[t - rows.start] = predictRow(model, x);
  }
  return out;
}

/** Coefficients on raw (unstandardized) features: what ml-regression and scikit-learn report. */
export function rawCoefficients(
  model: LinearModel,
  scaler: Scaler,
): { intercept: number; weights: number[] } {
  const weights = model.weights.map((w, i) => w / (scaler.std[i] as number));
  const intercept = weights.reduce((b, w, i) => b - w * (scaler.mean[i] as number), model.intercept);
  return { intercept, weights };
}

import { binIndex, ksAtEdges, psi, type ReferenceDistribution } from "../drift.ts";
import type { ServedModel } from "./model.ts";

/** One column the window bins: a feature, or the prediction itself. */
interface Column {
  reference: ReferenceDistribution;
}

/**
 * Drift over the last `size` served rows: each row's bin per feature (against the training
 * deciles), and its prediction's bin against the holdout predictions' deciles when the artifact
 * has them, go into a ring; bin counts are kept up to date as rows enter and leave, so adding a
 * row costs a binary search per column and reading PSI or KS costs nothing per row.
 */
export class DriftWindow {
  readonly #features: readonly string[];
  readonly #size: number;
  readonly #bins: number;
  /** The features in artifact order, then the prediction when it has a reference. */
  readonly #columns: Column[];
  readonly #hasPrediction: boolean;
  /** Row r's bin of column c at [r * columns + c]. */
  readonly #ring: Uint16Array;
  /** Count of bin b of column c at [c * bins + b]. */
  readonly #counts: Float64Array;
  #rows = 0;
  #head = 0;

  constructor(model: ServedModel, size: number) {
    const { reference, predictionReference } = model.artifact;
    this.#features = model.features;
    this.#size = size;
    this.#columns = model.features.map((f) => ({ reference: reference[f] as ReferenceDistribution }));
    this.#hasPrediction = predictionReference !== undefined;
    if (predictionReference) this.#columns.push({ reference: predictionReference });
    this.#bins = Math.max(...this.#columns.map((c) => c.reference.edges.length + 1));
    this.#ring = new Uint16Array(size * this.#columns.length);
    this.#counts = new Float64Array(this.#columns.length * this.#bins);
  }

  /** Rows currently in the window. */
  get rows(): number {
    return this.#rows;
  }

  /**
   * Adds the row at values[offset, offset + features) and its prediction, dropping the oldest
   * row when full.
   */
  add(values: ArrayLike<number>, offset: number, prediction: number): void {
    const columns = this.#columns.length;
    const features = this.#features.length;
    const base = this.#head * columns;
    const full = this.#rows === this.#size;
    for (let c = 0; c < columns; c++) {
      const value = c < features ? (values[offset + c] as number) : prediction;
      const bin = binIndex((this.#columns[c] as Column).reference.edges, value);
      const countBase = c * this.#bins;
      if (full) {
        const leaving = countBase + (this.#ring[base + c] as number);
        this.#counts[leaving] = (this.#counts[leaving] as number) - 1;
      }
      this.#ring[base + c] = bin;
      this.#counts[countBase + bin] = (this.#counts[countBase + bin] as number) + 1;
    }
    if (!full) this.#rows++;
    this.#head = this.#head + 1 === this.#size ? 0 : this.#head + 1;
  }

  #countsOf(c: number): Float64Array {
    const start = c * this.#bins;
    return this.#counts.subarray(start, start + (this.#columns[c] as Column).reference.proportions.length);
  }

  /** PSI of each feature over the window against its training reference; 0 for an empty window. */
  psiByFeature(): { feature: string; psi: number }[] {
    return this.#features.map((feature, c) => ({
      feature,
      psi: psi((this.#columns[c] as Column).reference, this.#countsOf(c)),
    }));
  }

  /** KS statistic at the training deciles of each feature; 0 for an empty window. */
  ksByFeature(): { feature: string; ks: number }[] {
    return this.#features.map((feature, c) => ({
      feature,
      ks: ksAtEdges((this.#columns[c] as Column).reference, this.#countsOf(c)),
    }));
  }

  /**
   * PSI and KS of the window's predictions against the holdout's predictions; undefined when the
   * artifact carries no prediction reference (trained before it was recorded).
   */
  predictionDrift(): { psi: number; ks: number } | undefined {
    if (!this.#hasPrediction) return undefined;
    const c = this.#columns.length - 1;
    const { reference } = this.#columns[c] as Column;
    return { psi: psi(reference, this.#countsOf(c)), ks: ksAtEdges(reference, this.#countsOf(c)) };
  }
}

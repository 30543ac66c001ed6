import { binIndex, ksAtEdges, psi, type ReferenceDistribution } from "../drift.ts";
import type { ServedModel } from "./model.ts";

/** The most rows the window holds aside before binning them (64 KB a feature, and 64 KB of predictions). */
const STAGED_ROWS = 8192;

/** One column the window bins: a feature, or the prediction itself. */
interface Column {
  reference: ReferenceDistribution;
  /** Its edges padded with +Infinity to 15, for bin15; undefined when it has more. */
  padded: Float64Array | undefined;
}

function column(reference: ReferenceDistribution): Column {
  const { edges } = reference;
  if (edges.length > 15) return { reference, padded: undefined };
  const padded = new Float64Array(15).fill(Number.POSITIVE_INFINITY);
  padded.set(edges);
  return { reference, padded };
}

/**
 * binIndex over at most 15 ascending edges padded with +Infinity to 15: the number of edges at or
 * below `value`, found in four steps whose outcome the CPU need not predict. binIndex's branches
 * go either way at random on served values, and were 2.5 times slower here; the drift window
 * bins every column of every row.
 */
function bin15(padded: Float64Array, value: number): number {
  let bin = (padded[7] as number) <= value ? 8 : 0;
  bin += (padded[bin + 3] as number) <= value ? 4 : 0;
  bin += (padded[bin + 1] as number) <= value ? 2 : 0;
  return bin + ((padded[bin] as number) <= value ? 1 : 0);
}

/**
 * Drift over the last `size` served rows: each row's bin per feature (against the training
 * deciles), and its prediction's bin against the holdout predictions' deciles when the artifact
 * has them, go into a ring; bin counts are kept up to date as rows enter and leave, so binning a
 * row costs a search per column, and reading PSI or KS costs the binning of the rows held aside
 * (at most the window's) and nothing per row already binned.
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
  /** Rows added but not binned yet: features row after row, and their predictions. */
  readonly #stagedValues: Float64Array;
  readonly #stagedPredictions: Float64Array;
  #staged = 0;

  constructor(model: ServedModel, size: number) {
    const { reference, predictionReference } = model.artifact;
    this.#features = model.features;
    this.#size = size;
    this.#columns = model.features.map((f) => column(reference[f] as ReferenceDistribution));
    this.#hasPrediction = predictionReference !== undefined;
    if (predictionReference) this.#columns.push(column(predictionReference));
    this.#bins = Math.max(...this.#columns.map((c) => c.reference.edges.length + 1));
    this.#ring = new Uint16Array(size * this.#columns.length);
    this.#counts = new Float64Array(this.#columns.length * this.#bins);
    this.#stagedValues = new Float64Array(STAGED_ROWS * this.#features.length);
    this.#stagedPredictions = new Float64Array(STAGED_ROWS);
  }

  /** Rows currently in the window. */
  get rows(): number {
    this.#binStaged();
    return this.#rows;
  }

  /**
   * Adds `count` rows, row i's features at values[i * features, (i + 1) * features) and its
   * prediction at predictions[i], as if one at a time: the oldest rows leave once the window is
   * full. The rows are copied aside and binned only when read or when STAGED_ROWS have gathered,
   * and then only the ones still in the window: with the default window of 1,000 rows, a stream of
   * 1,000-row batches bins one row in eight.
   */
  addRows(values: ArrayLike<number>, predictions: ArrayLike<number>, count: number): void {
    if (this.#staged + count > STAGED_ROWS) this.#binStaged();
    if (count > STAGED_ROWS) {
      this.#bin(values, predictions, count);
      return;
    }
    const features = this.#features.length;
    const at = this.#staged;
    for (let k = 0; k < count * features; k++) this.#stagedValues[at * features + k] = values[k] as number;
    for (let i = 0; i < count; i++) this.#stagedPredictions[at + i] = predictions[i] as number;
    this.#staged += count;
  }

  #binStaged(): void {
    if (this.#staged === 0) return;
    this.#bin(this.#stagedValues, this.#stagedPredictions, this.#staged);
    this.#staged = 0;
  }

  /**
   * Bins `count` rows into the window, column by column, so that each column's edges are read
   * once; of more rows than the window holds, only the ones that stay.
   */
  #bin(values: ArrayLike<number>, predictions: ArrayLike<number>, count: number): void {
    const columns = this.#columns.length;
    const features = this.#features.length;
    const size = this.#size;
    const ring = this.#ring;
    const counts = this.#counts;
    let first = 0;
    let head = this.#head;
    let rows = this.#rows;
    if (count >= size) {
      // Every row now in the window leaves, and so do the batch's first count - size rows.
      counts.fill(0);
      first = count - size;
      head = (head + first) % size;
      rows = 0;
    }
    // Rows first .. leaving - 1 fill empty slots; from `leaving` on, each replaces the oldest row.
    const leaving = first + (size - rows);
    for (let c = 0; c < columns; c++) {
      const { reference, padded } = this.#columns[c] as Column;
      const countBase = c * this.#bins;
      let slot = head;
      for (let i = first; i < count; i++) {
        const value = c < features ? (values[i * features + c] as number) : (predictions[i] as number);
        const bin = countBase + (padded ? bin15(padded, value) : binIndex(reference.edges, value));
        const at = slot * columns + c;
        if (i >= leaving) {
          const left = countBase + (ring[at] as number);
          counts[left] = (counts[left] as number) - 1;
        }
        ring[at] = bin - countBase;
        counts[bin] = (counts[bin] as number) + 1;
        slot = slot + 1 === size ? 0 : slot + 1;
      }
    }
    this.#rows = Math.min(size, rows + (count - first));
    this.#head = (head + (count - first)) % size;
  }

  #countsOf(c: number): Float64Array {
    const start = c * this.#bins;
    return this.#counts.subarray(start, start + (this.#columns[c] as Column).reference.proportions.length);
  }

  /** PSI and KS (at the reference's deciles) of column c over the window; 0 and 0 for an empty window. */
  #drift(c: number): { psi: number; ks: number } {
    this.#binStaged();
    const { reference } = this.#columns[c] as Column;
    return { psi: psi(reference, this.#countsOf(c)), ks: ksAtEdges(reference, this.#countsOf(c)) };
  }

  /** PSI and KS of each feature over the window against its training reference. */
  featureDrift(): { feature: string; psi: number; ks: number }[] {
    return this.#features.map((feature, c) => ({ feature, ...this.#drift(c) }));
  }

  /**
   * PSI and KS of the window's predictions against the holdout's predictions; undefined when the
   * artifact carries no prediction reference (trained before it was recorded).
   */
  predictionDrift(): { psi: number; ks: number } | undefined {
    return this.#hasPrediction ? this.#drift(this.#columns.length - 1) : undefined;
  }
}

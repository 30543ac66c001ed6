import { binIndex, psi } from "../drift.ts";
import type { ServedModel } from "./model.ts";

/**
 * Feature drift over the last `size` served rows: each row's bin per feature (against the
 * training deciles) goes into a ring, and bin counts are kept up to date as rows enter and leave,
 * so adding a row costs a binary search per feature and reading PSI costs nothing per row.
 */
export class DriftWindow {
  readonly #model: ServedModel;
  readonly #size: number;
  readonly #bins: number;
  /** The reference edges of each feature, in artifact order. */
  readonly #edges: number[][];
  /** Row r's bin of feature f at [r * features + f]. */
  readonly #ring: Uint16Array;
  /** Count of bin b of feature f at [f * bins + b]. */
  readonly #counts: Float64Array;
  #rows = 0;
  #head = 0;

  constructor(model: ServedModel, size: number) {
    this.#model = model;
    this.#size = size;
    this.#edges = model.features.map((f) => (model.artifact.reference[f] as { edges: number[] }).edges);
    this.#bins = Math.max(...this.#edges.map((e) => e.length + 1));
    this.#ring = new Uint16Array(size * model.features.length);
    this.#counts = new Float64Array(model.features.length * this.#bins);
  }

  /** Rows currently in the window. */
  get rows(): number {
    return this.#rows;
  }

  /** Adds the row at values[offset, offset + features), dropping the oldest when full. */
  add(values: ArrayLike<number>, offset: number): void {
    const n = this.#edges.length;
    const base = this.#head * n;
    const full = this.#rows === this.#size;
    for (let f = 0; f < n; f++) {
      const bin = binIndex(this.#edges[f] as number[], values[offset + f] as number);
      const countBase = f * this.#bins;
      if (full) {
        const leaving = countBase + (this.#ring[base + f] as number);
        this.#counts[leaving] = (this.#counts[leaving] as number) - 1;
      }
      this.#ring[base + f] = bin;
      this.#counts[countBase + bin] = (this.#counts[countBase + bin] as number) + 1;
    }
    if (!full) this.#rows++;
    this.#head = this.#head + 1 === this.#size ? 0 : this.#head + 1;
  }

  /** PSI of each feature over the window against its training reference; 0 for an empty window. */
  psiByFeature(): { feature: string; psi: number }[] {
    const { features, artifact } = this.#model;
    return features.map((feature, f) => {
      const reference = artifact.reference[feature] as { edges: number[]; proportions: number[] };
      const start = f * this.#bins;
      return {
        feature,
        psi: psi(reference, this.#counts.subarray(start, start + reference.proportions.length)),
      };
    });
  }
}

import { randomBytes } from "node:crypto";

/**
 * Ids unique across pods and restarts: a random per-process prefix and a counter. Cheaper than a
 * UUID per row, which matters in a 1,000-row batch.
 */
export class PredictionIds {
  readonly #prefix = `${randomBytes(9).toString("base64url")}-`;
  #next = 0;

  next(): string {
    return this.#prefix + (this.#next++).toString(36);
  }
}

export type FeedbackMatch =
  | { status: "scored"; prediction: number }
  | { status: "unknown" }
  | { status: "expired" };

/**
 * The most recent predictions, kept for feedback: at most `capacity`, each for `ttlMs`. Held in
 * ring buffers indexed from a Map, so remembering a prediction allocates nothing but its id.
 * Predictions leave in the order they arrived (a FIFO, which is LRU here: entries are never read
 * twice, since feedback consumes its prediction so a repeated report cannot be counted twice).
 */
export class PredictionCache {
  readonly #slots = new Map<string, number>();
  readonly #ids: (string | undefined)[];
  readonly #predictions: Float64Array;
  readonly #times: Float64Array;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #head = 0;

  constructor(capacity: number, ttlMs: number, now: () => number = Date.now) {
    this.#ids = new Array<string | undefined>(capacity).fill(undefined);
    this.#predictions = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  get size(): number {
    return this.#slots.size;
  }

  remember(id: string, prediction: number, now = this.#now()): void {
    const slot = this.#head;
    const evicted = this.#ids[slot];
    if (evicted !== undefined) this.#slots.delete(evicted);
    this.#ids[slot] = id;
    this.#predictions[slot] = prediction;
    this.#times[slot] = now;
    this.#slots.set(id, slot);
    this.#head = slot + 1 === this.#ids.length ? 0 : slot + 1;
  }

  /** Looks a prediction up and forgets it. */
  take(id: string): FeedbackMatch {
    const slot = this.#slots.get(id);
    if (slot === undefined) return { status: "unknown" };
    this.#slots.delete(id);
    this.#ids[slot] = undefined;
    if (this.#now() - (this.#times[slot] as number) > this.#ttlMs) return { status: "expired" };
    return { status: "scored", prediction: this.#predictions[slot] as number };
  }
}

/**
 * A directional hit: the prediction called the sign of the realized return. A zero on either side
 * calls no direction, so it is a miss unless both are zero.
 */
export function directionalHit(prediction: number, realized: number): boolean {
  return Math.sign(prediction) === Math.sign(realized);
}

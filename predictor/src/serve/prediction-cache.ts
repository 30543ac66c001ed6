import { randomBytes } from "node:crypto";

export type FeedbackMatch =
  | { status: "scored"; prediction: number }
  | { status: "unknown" }
  | { status: "expired" };

const SEQUENCE = /^\d{1,15}$/;

/**
 * The most recent predictions, kept for feedback: at most `capacity`, each for `ttlMs`.
 *
 * A prediction's id is a random per-process prefix and a sequence number, and the sequence number
 * picks its slot in ring buffers (sequence mod capacity). Remembering a prediction therefore
 * writes three numbers and builds one string, and finding it parses the id: no hash map, which at
 * a 1,000-row batch would cost more than the predictions. A slot reused by a later prediction no
 * longer holds the id's sequence number, so the id reads as unknown (evicted). Feedback consumes
 * its prediction, so a repeated report is not counted twice.
 */
export class PredictionCache {
  readonly #prefix = `${randomBytes(9).toString("base64url")}-`;
  readonly #capacity: number;
  /** Sequence number held by each slot; -1 when empty or already scored. */
  readonly #sequences: Float64Array;
  readonly #predictions: Float64Array;
  readonly #times: Float64Array;
  readonly #ttlMs: number;
  readonly #now: () => number;
  #next = 0;

  constructor(capacity: number, ttlMs: number, now: () => number = Date.now) {
    this.#capacity = capacity;
    this.#sequences = new Float64Array(capacity).fill(-1);
    this.#predictions = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /** The cache's clock, read once per batch rather than once per row. */
  now(): number {
    return this.#now();
  }

  /** Keeps a prediction made at `now` and returns its new id. */
  remember(prediction: number, now = this.#now()): string {
    const sequence = this.#next++;
    const slot = sequence % this.#capacity;
    this.#sequences[slot] = sequence;
    this.#predictions[slot] = prediction;
    this.#times[slot] = now;
    return this.#prefix + sequence;
  }

  /** Looks a prediction up by id and forgets it. */
  take(id: string): FeedbackMatch {
    if (!id.startsWith(this.#prefix)) return { status: "unknown" };
    const digits = id.slice(this.#prefix.length);
    if (!SEQUENCE.test(digits)) return { status: "unknown" };
    const sequence = Number(digits);
    const slot = sequence % this.#capacity;
    if (this.#sequences[slot] !== sequence) return { status: "unknown" };
    this.#sequences[slot] = -1;
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

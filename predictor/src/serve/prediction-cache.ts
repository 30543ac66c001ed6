import { randomBytes } from "node:crypto";
import { pieceOf, viewOf, writePiece } from "./word-copy.ts";

export type FeedbackMatch =
  | { status: "scored"; prediction: number }
  | { status: "unknown" }
  | { status: "expired" };

const SEQUENCE = /^\d{1,15}$/;
const THREE_DIGITS = Array.from({ length: 1000 }, (_, i) => String(i).padStart(3, "0"));
/** THREE_DIGITS as words to write: the three digits of i and a comma, little-endian. */
const THREE_DIGIT_WORDS = Uint32Array.from(THREE_DIGITS, (digits) =>
  Buffer.from(`${digits},`, "latin1").readUInt32LE(0),
);

/**
 * The most recent predictions, kept for feedback: at most `capacity`, each for `ttlMs`.
 *
 * A prediction's id is a random per-process prefix and a sequence number, and the sequence number
 * picks its slot in ring buffers (sequence mod capacity). Remembering a prediction therefore
 * writes three numbers, and finding it parses the id: no hash map, which at
 * a 1,000-row batch would cost more than the predictions. A slot reused by a later prediction no
 * longer holds the id's sequence number, so the id reads as unknown (evicted). Feedback consumes
 * its prediction, so a repeated report is not counted twice.
 *
 * The sequence is written as its thousands (formatted once per thousand ids) and its last three
 * digits from a table: "…-007", "…-1007". Formatting a new number for every id filled V8's cache of
 * formatted numbers with strings that outlive a young-generation collection, which made those
 * collections three times longer at 17,000 predictions a second.
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
  /** The thousands of the last sequence number written, and the start of their ids. */
  #block = 0;
  #blockStart = this.#prefix;
  #blockStartBytes = pieceOf(this.#prefix);
  /** Where idsText writes, kept between calls: as long as the longest text written. */
  #idsBytes = Buffer.alloc(0);
  #idsView = viewOf(this.#idsBytes);

  constructor(capacity: number, ttlMs: number, now: () => number = Date.now) {
    this.#capacity = capacity;
    this.#sequences = new Float64Array(capacity).fill(-1);
    this.#predictions = new Float64Array(capacity);
    this.#times = new Float64Array(capacity);
    this.#ttlMs = ttlMs;
    this.#now = now;
  }

  /**
   * Keeps the first `count` predictions, made now, under consecutive sequence numbers and returns
   * the first: prediction i's id is idOf(first + i).
   */
  remember(predictions: ArrayLike<number>, count: number): number {
    const now = this.#now();
    const first = this.#next;
    for (let i = 0; i < count; i++) {
      const slot = (first + i) % this.#capacity;
      this.#sequences[slot] = first + i;
      this.#predictions[slot] = predictions[i] as number;
      this.#times[slot] = now;
    }
    this.#next = first + count;
    return first;
  }

  /** The id of the prediction remembered under `sequence`. */
  idOf(sequence: number): string {
    const block = Math.floor(sequence / 1000);
    return this.#startOf(block) + (THREE_DIGITS[sequence - block * 1000] as string);
  }

  /**
   * Writes the id of the prediction remembered under `sequence` into `out` at `at`, with no string
   * made (a batch answer carries 1,000 ids), and returns where it ends. Word writes (word-copy.ts):
   * `out` needs WORD bytes of slack after the id, and the byte right after it is left a comma.
   */
  writeId(out: DataView, at: number, sequence: number): number {
    const block = Math.floor(sequence / 1000);
    this.#startOf(block);
    const digitsAt = writePiece(out, at, this.#blockStartBytes);
    out.setUint32(digitsAt, THREE_DIGIT_WORDS[sequence - block * 1000] as number, true);
    return digitsAt + 3;
  }

  /** The length of the id of `sequence`, at least that of every id before it: ids only grow. */
  idLength(sequence: number): number {
    return this.#startOf(Math.floor(sequence / 1000)).length + 3;
  }

  /**
   * The ids of `count` predictions from sequence `first` on, joined by commas (an OIP answer's).
   * Each run of ids within one thousand is their common start and "000," repeated by Buffer.fill,
   * then each id's last three digits and comma written over its "000," as one word: 4 us for 1,000
   * ids, where writeId for each took 18.
   */
  idsText(first: number, count: number): string {
    // A single id, an OIP answer's most common, is idOf's: the fill and the copy out of the buffer
    // are two calls into C++ and a string of their own, 1.4% of such a request's time.
    if (count === 1) return this.idOf(first);
    // At most count ids as long as the last, each with its comma.
    const most = count * (this.idLength(first + count - 1) + 1);
    if (this.#idsBytes.length < most) {
      this.#idsBytes = Buffer.allocUnsafe(most);
      this.#idsView = viewOf(this.#idsBytes);
    }
    const bytes = this.#idsBytes;
    let at = 0;
    for (let sequence = first, last = first + count; sequence < last; ) {
      const block = Math.floor(sequence / 1000);
      const end = Math.min(last, (block + 1) * 1000);
      const start = this.#startOf(block);
      const width = start.length + 4;
      const runEnd = at + (end - sequence) * width;
      bytes.fill(`${start}000,`, at, runEnd, "latin1");
      for (let d = sequence - block * 1000, to = at + start.length; to < runEnd; d++, to += width) {
        this.#idsView.setUint32(to, THREE_DIGIT_WORDS[d] as number, true);
      }
      at = runEnd;
      sequence = end;
    }
    // Less the last comma.
    return bytes.toString("latin1", 0, Math.max(0, at - 1));
  }

  /**
   * The start shared by the ids of one thousand sequence numbers (`block`): the prefix, then the
   * thousands' digits, none for the first thousand; also kept as bytes for writeId. The last three
   * digits come from THREE_DIGITS. The id format lives here alone: idOf, writeId and take all
   * write or read ids through it.
   */
  #startOf(block: number): string {
    if (block !== this.#block) {
      this.#block = block;
      this.#blockStart = this.#prefix + (block === 0 ? "" : String(block));
      this.#blockStartBytes = pieceOf(this.#blockStart);
    }
    return this.#blockStart;
  }

  /** Looks a prediction up by id and forgets it. */
  take(id: string): FeedbackMatch {
    if (!id.startsWith(this.#prefix)) return { status: "unknown" };
    const digits = id.slice(this.#prefix.length);
    if (!SEQUENCE.test(digits)) return { status: "unknown" };
    const sequence = Number(digits);
    // One sequence, one id: "…-7" is not "…-007".
    if (id !== this.idOf(sequence)) return { status: "unknown" };
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

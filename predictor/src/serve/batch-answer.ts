/**
 * The answers of POST /v1/predict/batch and /v1/predict, written by hand. A batch's, as bytes:
 * `{"model":…,"modelVersion":…,"track":…,"results":[{"prediction":y,"interval":{"lower":…,
 * "upper":…,"level":…},"predictionId":"…"},…]}`, byte for byte what JSON.stringify writes of
 * that object.
 *
 * JSON.stringify of 1,000 result objects took twice as long as formatting their 3,000 numbers:
 * half of it went to the objects, their keys and the ids. Here the numbers alone go through
 * JSON.stringify, as one array (its fast path for an array of doubles; no formatted number goes
 * through V8's cache of formatted numbers, whose strings outlive young-generation collections),
 * and the answer is copied together from that text, the keys, prepared once, and the ids, which
 * the prediction cache writes in place. Joining the pieces as strings measured no faster than
 * JSON.stringify of the objects (flattening thousands of joined strings costs as much); copying
 * bytes into one buffer, four at a time (word-copy.ts), does not build them.
 */
import { type Piece, pieceOf, viewOf, WORD, writePiece } from "./word-copy.ts";

export interface BatchIdentity {
  model: string;
  modelVersion: string;
  track: string;
}

export interface BatchInterval {
  lower: number;
  upper: number;
  level: number;
}

/** Writes the prediction ids (PredictionCache): ids are base64url and digits, nothing to escape. */
export interface PredictionIds {
  writeId(out: DataView, at: number, sequence: number): number;
  idLength(sequence: number): number;
}

const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const COMMAS = 0x2c2c2c2c;
const ONES = 0x01010101;
const HIGH_BITS = 0x80808080;

/**
 * Writes the text at `from` in `source` up to its next comma to `out` at `at`, a word at a time,
 * each word tested for a comma by SWAR (a byte of word ^ COMMAS is zero where the comma is; the
 * lowest such byte is found exactly). Returns where the text ends in `out`; `cursor.from` moves
 * past the comma.
 */
function writeToComma(out: DataView, at: number, source: DataView, cursor: { from: number }): number {
  let from = cursor.from;
  let to = at;
  for (;;) {
    const word = source.getUint32(from, true);
    out.setUint32(to, word, true);
    const x = word ^ COMMAS;
    const commas = (x - ONES) & ~x & HIGH_BITS;
    if (commas !== 0) {
      const before = (31 - Math.clz32(commas & -commas)) >> 3;
      cursor.from = from + before + 1;
      return to + before;
    }
    from += WORD;
    to += WORD;
  }
}

/** What follows a result's upper bound: the interval's level, then the start of its id. */
function levelToIdText(level: number): string {
  return `,"level":${JSON.stringify(level)}},"predictionId":"`;
}

const FIRST_RESULT = pieceOf('{"prediction":');
const NEXT_RESULT = pieceOf(',{"prediction":');
const LOWER = pieceOf(',"interval":{"lower":');
const UPPER = pieceOf(',"upper":');
const ID_END = pieceOf('"}');

export class BatchAnswerWriter {
  /** `{"model":…,"modelVersion":…,"track":…,"results":[` */
  readonly #head: Buffer;
  /** `,"level":<level>},"predictionId":"` for the level of #level. */
  #levelToId: Piece = pieceOf("");
  #level = Number.NaN;
  /** Each row's prediction, lower and upper in turn, for one JSON.stringify; reused by every batch. */
  #numbers: number[] = [];
  /** The text of #numbers, its `]` made a comma; reused by every batch. */
  #scratch = Buffer.alloc(0);
  #scratchView = viewOf(this.#scratch);
  /** Where the scan of the numbers is; one object for every batch, not one per number. */
  readonly #cursor = { from: 0 };

  constructor(identity: BatchIdentity) {
    const { model, modelVersion, track } = identity;
    this.#head = Buffer.from(`${JSON.stringify({ model, modelVersion, track }).slice(0, -1)},"results":[`);
  }

  /** The answer for the first `count` predictions, the ith with the id of sequence `first` + i in `ids`. */
  write(
    interval: BatchInterval,
    predictions: ArrayLike<number>,
    count: number,
    ids: PredictionIds,
    first: number,
  ): Buffer {
    const numbers = this.#numbers;
    if (numbers.length !== 3 * count) numbers.length = 3 * count;
    for (let i = 0; i < count; i++) {
      const y = predictions[i] as number;
      numbers[3 * i] = y;
      numbers[3 * i + 1] = y + interval.lower;
      numbers[3 * i + 2] = y + interval.upper;
    }
    const numbersText = JSON.stringify(numbers);
    const levelToId = this.#levelToIdOf(interval.level);
    this.#ensureScratch(numbersText.length + WORD);
    // Latin-1 is byte for byte: the numbers are ASCII. The closing bracket becomes a comma: every
    // number then ends with one.
    this.#scratch[this.#scratch.write(numbersText, 0, "latin1") - 1] = COMMA;

    const head = this.#head;
    const perRow = FIRST_RESULT.length + LOWER.length + UPPER.length + levelToId.length + ID_END.length;
    // At most: numbersText has 3 * count - 1 commas and two brackets, no id is longer than the
    // last, every result but the first starts with a comma. The answer is what was written.
    const size =
      head.length +
      (numbersText.length - 3 * count - 1) +
      count * (ids.idLength(first + count - 1) + perRow) +
      (count - 1) +
      2;
    const bytes = Buffer.allocUnsafe(size + WORD);
    bytes.set(head, 0);
    const out = viewOf(bytes);
    const source = this.#scratchView;
    const cursor = this.#cursor;
    cursor.from = 1;
    let at = head.length;
    for (let i = 0; i < count; i++) {
      at = writePiece(out, at, i === 0 ? FIRST_RESULT : NEXT_RESULT);
      at = writeToComma(out, at, source, cursor);
      at = writePiece(out, at, LOWER);
      at = writeToComma(out, at, source, cursor);
      at = writePiece(out, at, UPPER);
      at = writeToComma(out, at, source, cursor);
      at = writePiece(out, at, levelToId);
      at = ids.writeId(out, at, first + i);
      at = writePiece(out, at, ID_END);
    }
    bytes[at++] = CLOSE_BRACKET;
    bytes[at++] = CLOSE_BRACE;
    return bytes.subarray(0, at);
  }

  #levelToIdOf(level: number): Piece {
    if (!Object.is(level, this.#level)) {
      this.#level = level;
      this.#levelToId = pieceOf(levelToIdText(level));
    }
    return this.#levelToId;
  }

  #ensureScratch(length: number): void {
    if (this.#scratch.length >= length) return;
    this.#scratch = Buffer.allocUnsafeSlow(2 * length);
    this.#scratchView = viewOf(this.#scratch);
  }
}

/**
 * The answer of POST /v1/predict: `{"prediction":y,"interval":{"lower":…,"upper":…,"level":…},
 * "predictionId":"…","model":…,"modelVersion":…,"track":…}`, byte for byte what JSON.stringify
 * writes of that object. As in a batch's answer, the numbers alone go through JSON.stringify, as
 * one array, and the answer is joined from their text, the keys, the id and the identity, prepared
 * once. JSON.stringify of the object (the identity Object.assign-ed onto the result) took 752 ns
 * in process against 352, and 2.8% more of the predictor's CPU a request at 16,000 requests/s
 * (paired rounds, docs/benchmarks.md, session 13). Joined as strings, as a single answer is small:
 * copying bytes pays off for a batch's thousands of pieces.
 */
export class SingleAnswerWriter {
  /** `","model":…,"modelVersion":…,"track":…}`: the id's closing quote and the identity. */
  readonly #idToEnd: string;
  #levelToId = "";
  #level = Number.NaN;

  constructor(identity: BatchIdentity) {
    const { model, modelVersion, track } = identity;
    this.#idToEnd = `",${JSON.stringify({ model, modelVersion, track }).slice(1)}`;
  }

  /** The answer for prediction `y` with this interval and id (ids need no escaping: PredictionIds). */
  write(interval: BatchInterval, y: number, id: string): string {
    const numbers = JSON.stringify([y, y + interval.lower, y + interval.upper]);
    const first = numbers.indexOf(",");
    const second = numbers.indexOf(",", first + 1);
    if (!Object.is(interval.level, this.#level)) {
      this.#level = interval.level;
      this.#levelToId = levelToIdText(interval.level);
    }
    return `{"prediction":${numbers.slice(1, first)},"interval":{"lower":${numbers.slice(first + 1, second)},"upper":${numbers.slice(second + 1, -1)}${this.#levelToId}${id}${this.#idToEnd}`;
  }
}

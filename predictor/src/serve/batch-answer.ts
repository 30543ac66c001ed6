/**
 * The answer of POST /v1/predict/batch, written as bytes:
 * `{"model":…,"modelVersion":…,"track":…,"results":[{"prediction":y,"interval":{"lower":…,
 * "upper":…,"level":…},"predictionId":"…"},…]}`, byte for byte what JSON.stringify writes of
 * that object.
 *
 * JSON.stringify of 1,000 result objects took twice as long as formatting their 3,000 numbers:
 * half of it went to the objects, their keys and the ids. Here the numbers alone go through
 * JSON.stringify, as one array (its fast path for an array of doubles; no formatted number goes
 * through V8's cache of formatted numbers, whose strings outlive young-generation collections),
 * and the answer is copied together from that text, the ids' text and the keys, prepared once.
 * Joining the pieces as strings measured no faster than JSON.stringify of the objects (flattening
 * thousands of joined strings costs as much); copying bytes into one buffer does not build them.
 */
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

const COMMA = 0x2c;
const CLOSE_BRACKET = 0x5d;
const QUOTE = 0x22;
const CLOSE_BRACE = 0x7d;

const bytes = (text: string) => Buffer.from(text);
const FIRST_RESULT = bytes('{"prediction":');
const NEXT_RESULT = bytes(',{"prediction":');
const LOWER = bytes(',"interval":{"lower":');
const UPPER = bytes(',"upper":');

export class BatchAnswerWriter {
  /** `{"model":…,"modelVersion":…,"track":…,"results":[` */
  readonly #head: Buffer;
  /** `,"level":<level>},"predictionId":"` for the level of #level. */
  #levelToId: Buffer = Buffer.alloc(0);
  #level = Number.NaN;
  /** Each row's prediction, lower and upper in turn, for one JSON.stringify; reused by every batch. */
  #numbers: number[] = [];
  /** The text of #numbers, then the ids' text and a comma, as bytes; reused by every batch. */
  #scratch = Buffer.alloc(0);

  constructor(identity: BatchIdentity) {
    const { model, modelVersion, track } = identity;
    this.#head = bytes(`${JSON.stringify({ model, modelVersion, track }).slice(0, -1)},"results":[`);
  }

  /**
   * The answer for the first `count` predictions, the ith with the id at i in `ids`, the ids
   * joined by commas (PredictionCache.idsText); ids are base64url and digits, nothing to escape.
   */
  write(interval: BatchInterval, predictions: ArrayLike<number>, count: number, ids: string): Buffer {
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
    // Latin-1 is byte for byte: the numbers and ids are ASCII.
    const scratch = this.#scratchOf(numbersText.length + ids.length + 1);
    const idsAt = scratch.write(numbersText, 0, "latin1");
    scratch[idsAt + scratch.write(ids, idsAt, "latin1")] = COMMA;

    const head = this.#head;
    const perRow = FIRST_RESULT.length + LOWER.length + UPPER.length + levelToId.length + 2;
    // numbersText has 3 * count - 1 commas and two brackets, ids has count - 1 commas.
    const size =
      head.length +
      (numbersText.length - 3 * count - 1) +
      (ids.length - count + 1) +
      count * perRow +
      (count - 1) +
      2;
    const out = Buffer.allocUnsafe(size);
    out.set(head, 0);
    let at = head.length;
    let n = 1;
    let d = idsAt;
    // Constant pieces by set (one copy each), the numbers and ids byte by byte up to their comma.
    for (let i = 0; i < count; i++) {
      const start = i === 0 ? FIRST_RESULT : NEXT_RESULT;
      out.set(start, at);
      at += start.length;
      for (let c = scratch[n++]; c !== COMMA; c = scratch[n++]) out[at++] = c as number;
      out.set(LOWER, at);
      at += LOWER.length;
      for (let c = scratch[n++]; c !== COMMA; c = scratch[n++]) out[at++] = c as number;
      out.set(UPPER, at);
      at += UPPER.length;
      for (let c = scratch[n++]; c !== COMMA && c !== CLOSE_BRACKET; c = scratch[n++])
        out[at++] = c as number;
      out.set(levelToId, at);
      at += levelToId.length;
      // Past the end (fewer ids than rows) the scan stops, and the size check below fails.
      for (let c = scratch[d++]; c !== COMMA && c !== undefined; c = scratch[d++]) out[at++] = c;
      out[at++] = QUOTE;
      out[at++] = CLOSE_BRACE;
    }
    out[at++] = CLOSE_BRACKET;
    out[at++] = CLOSE_BRACE;
    if (at !== size || d !== idsAt + ids.length + 1) {
      throw new Error(
        `batch answer: ${count} rows, ids text of ${ids.length} chars: wrote ${at} bytes of ${size}`,
      );
    }
    return out;
  }

  #levelToIdOf(level: number): Buffer {
    if (!Object.is(level, this.#level)) {
      this.#level = level;
      this.#levelToId = bytes(`,"level":${JSON.stringify(level)}},"predictionId":"`);
    }
    return this.#levelToId;
  }

  #scratchOf(length: number): Buffer {
    if (this.#scratch.length < length) this.#scratch = Buffer.allocUnsafeSlow(2 * length);
    return this.#scratch;
  }
}

/**
 * Finds where each HTTP/1.1 response ends in the bytes one connection reads, for the fixed-rate load
 * generator (bench/fixed-rate.ts), which reads every connection into one reused buffer. A response's
 * body is delimited by its Content-Length, as every server the benchmark measures sends one; a
 * chunked or close-delimited response is an error rather than a guess.
 */

const HEADER_END = Buffer.from("\r\n\r\n", "latin1");
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})/;
const CONTENT_LENGTH = /\r\ncontent-length:[ \t]*(\d+)[ \t]*\r/i;
const CHUNKED = /\r\ntransfer-encoding:[^\r]*chunked/i;

export class ResponseReader {
  /** A header that came in more than one read, gathered here; bounded, as no answer measured has a large one. */
  readonly #header: Buffer;
  #headerLength = 0;
  /** Body bytes still to come; -1 while reading a header. */
  #bodyLeft = -1;
  #status = 0;

  constructor(maxHeaderBytes = 16 * 1024) {
    this.#header = Buffer.alloc(maxHeaderBytes);
  }

  /** Reads bytes [0, length) of `bytes`; calls `onResponse(status)` once for each response completed. */
  read(bytes: Buffer, length: number, onResponse: (status: number) => void): void {
    let at = 0;
    while (at < length) {
      if (this.#bodyLeft < 0) at = this.#readHeader(bytes, at, length);
      if (this.#bodyLeft < 0) return;
      const taken = Math.min(this.#bodyLeft, length - at);
      this.#bodyLeft -= taken;
      at += taken;
      if (this.#bodyLeft === 0) {
        this.#bodyLeft = -1;
        onResponse(this.#status);
      }
    }
  }

  /** Reads a header from `at`; returns where its body starts, or `length` when the header goes on in the next read. */
  #readHeader(bytes: Buffer, at: number, length: number): number {
    if (this.#headerLength === 0) {
      // `bytes` past `length` is an earlier read's: a match there is not one.
      const end = bytes.indexOf(HEADER_END, at);
      if (end >= 0 && end + HEADER_END.length <= length) {
        this.#startBody(bytes.toString("latin1", at, end));
        return end + HEADER_END.length;
      }
      this.#gather(bytes, at, length);
      return length;
    }
    const searchFrom = Math.max(0, this.#headerLength - (HEADER_END.length - 1));
    this.#gather(bytes, at, length);
    const end = this.#header.indexOf(HEADER_END, searchFrom);
    if (end < 0 || end + HEADER_END.length > this.#headerLength) return length;
    // What followed the header in this read is body or the next response: read it from `bytes`.
    const afterHeader = this.#headerLength - (end + HEADER_END.length);
    this.#startBody(this.#header.toString("latin1", 0, end));
    this.#headerLength = 0;
    return length - afterHeader;
  }

  #gather(bytes: Buffer, from: number, to: number): void {
    if (this.#headerLength + (to - from) > this.#header.length) {
      throw new Error(`response header longer than ${this.#header.length} bytes`);
    }
    bytes.copy(this.#header, this.#headerLength, from, to);
    this.#headerLength += to - from;
  }

  #startBody(header: string): void {
    const status = STATUS_LINE.exec(header);
    if (!status) throw new Error(`not an HTTP/1.x response: ${JSON.stringify(header.slice(0, 40))}`);
    if (CHUNKED.test(header)) throw new Error("chunked response: only Content-Length bodies are read");
    const length = CONTENT_LENGTH.exec(header);
    if (!length) throw new Error(`response without Content-Length: ${JSON.stringify(header.slice(0, 200))}`);
    this.#status = Number(status[1]);
    this.#bodyLeft = Number(length[1]);
  }
}

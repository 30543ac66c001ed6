import { describe, expect, it } from "vitest";
import { ResponseReader } from "./response-reader.ts";

function response(status: number, body: string, headerName = "content-length"): string {
  return `HTTP/1.1 ${status} X\r\ncontent-type: application/json\r\n${headerName}: ${Buffer.byteLength(body)}\r\nserver-timing: app;dur=0.041\r\n\r\n${body}`;
}

/** Feeds `text` to a reader in reads cut at `cuts`, each read into one reused buffer as the client does. */
function statusesOf(text: string, cuts: number[], reader = new ResponseReader()): number[] {
  const bytes = Buffer.from(text, "latin1");
  const buffer = Buffer.alloc(bytes.length + 64, "\r\n\r\n");
  const statuses: number[] = [];
  const ends = [...cuts, bytes.length];
  let from = 0;
  for (const to of ends) {
    bytes.copy(buffer, 0, from, to);
    reader.read(buffer, to - from, (status) => statuses.push(status));
    from = to;
  }
  return statuses;
}

describe("ResponseReader", () => {
  const stream = response(200, '{"prediction":0.001}') + response(400, '{"error":"x"}') + response(204, "");

  it("finds every response of a stream in one read, with its status", () => {
    expect(statusesOf(stream, [])).toEqual([200, 400, 204]);
  });

  it("finds the same responses wherever the reads cut the stream, even inside the header's end", () => {
    for (let cut = 1; cut < stream.length; cut++) {
      expect(statusesOf(stream, [cut])).toEqual([200, 400, 204]);
    }
    const everyByte = Array.from({ length: stream.length - 1 }, (_, i) => i + 1);
    expect(statusesOf(stream, everyByte)).toEqual([200, 400, 204]);
  });

  it("reads Content-Length in any case and waits for the whole body", () => {
    const text = response(200, "0123456789", "Content-Length");
    expect(statusesOf(text.slice(0, -1), [])).toEqual([]);
    expect(statusesOf(text, [text.length - 1])).toEqual([200]);
  });

  it("refuses a response it cannot delimit rather than guessing", () => {
    const chunked = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n";
    expect(() => statusesOf(chunked, [])).toThrow(/chunked/);
    expect(() => statusesOf("HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n{}", [])).toThrow(
      /without Content-Length/,
    );
    expect(() => statusesOf("SSH-2.0-x\r\n\r\n", [])).toThrow(/not an HTTP/);
    expect(() =>
      statusesOf(`HTTP/1.1 200 OK\r\nx: ${"a".repeat(100)}`, [10], new ResponseReader(64)),
    ).toThrow(/longer than 64 bytes/);
  });
});

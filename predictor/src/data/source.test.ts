import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  type DataRetryPolicy,
  DataSourceError,
  loadRawBars,
  validateSourceSpec,
  WrongDataSourceError,
} from "./source.ts";

const CSV = "ts,open,high,low,close,volume\n1704067200000,1,2,0.5,1.5,10\n1704067260000,1.5,2,1,1.75,12\n";
const FAST: DataRetryPolicy = { timeoutMs: 300, attempts: 3, baseMs: 10, maxMs: 40 };

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<string> {
  const s = createServer(handler);
  server = s;
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}/bars.csv`;
}

describe("url source", () => {
  it("retries a failing server with backoff and then reads the CSV", async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      if (calls <= 2) {
        res.writeHead(503).end("busy");
        return;
      }
      res.writeHead(200, { "content-type": "text/csv" }).end(CSV);
    });
    const retries: number[] = [];
    const data = await loadRawBars({ url }, FAST, (attempt) => retries.push(attempt));
    expect(calls).toBe(3);
    expect(retries).toEqual([1, 2]);
    expect(data.raw.columns.length).toBe(2);
    expect(data.raw.columns.close[1]).toBe(1.75);
    expect(data.sha256).toBe(createHash("sha256").update(CSV).digest("hex"));
    expect(data.source).toBe(`url ${url}`);
  });

  it("gives up on a server that never answers, naming the source and the attempts", async () => {
    let calls = 0;
    const url = await serve(() => {
      calls++;
    });
    const started = Date.now();
    const err = await loadRawBars({ url }, FAST).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DataSourceError);
    expect((err as Error).message).toBe(
      `data source url ${url} unavailable after 3 attempts: timed out; timed out; timed out`,
    );
    expect(calls).toBe(3);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * FAST.timeoutMs);
  });

  it("times out a body that stalls after the headers", async () => {
    const url = await serve((_req, res) => {
      res.writeHead(200, { "content-type": "text/csv" });
      res.write(CSV.slice(0, 40));
    });
    await expect(loadRawBars({ url, retries: 1 }, FAST)).rejects.toThrow(
      `data source url ${url} unavailable after 2 attempts: timed out; timed out`,
    );
  });

  it("calls a URL its server refuses a wrong source, without retrying; the spec can set retries and timeout", async () => {
    for (const status of [404, 403]) {
      let calls = 0;
      const url = await serve((_req, res) => {
        calls++;
        res.writeHead(status).end();
      });
      const loading = loadRawBars({ url, retries: 5, timeoutMs: 1000 }, FAST);
      await expect(loading).rejects.toThrow(WrongDataSourceError);
      await expect(loading).rejects.toThrow(`data source url ${url} answered HTTP ${status} `);
      expect(calls).toBe(1);
      server?.closeAllConnections();
      await new Promise((resolve) => server?.close(resolve));
      server = undefined;
    }
  });

  it("retries a 429 and a 503 as an outage", async () => {
    let calls = 0;
    const url = await serve((_req, res) => {
      calls++;
      res.writeHead(calls === 1 ? 429 : 503).end();
    });
    await expect(loadRawBars({ url, retries: 2 }, FAST)).rejects.toThrow(
      `data source url ${url} unavailable after 3 attempts: HTTP 429 Too Many Requests; HTTP 503 Service Unavailable; HTTP 503 Service Unavailable`,
    );
    expect(calls).toBe(3);
  });

  it("names a refused connection", async () => {
    const url = await serve(() => {});
    await new Promise((resolve) => server?.close(resolve));
    server = undefined;
    await expect(loadRawBars({ url, retries: 0 }, FAST)).rejects.toThrow(
      /unavailable after 1 attempt: fetch failed: .*ECONNREFUSED/,
    );
  });
});

describe("path source", () => {
  it("reads a file (as a mounted ConfigMap) and hashes its bytes", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bars-"));
    const path = join(dir, "bars.csv");
    writeFileSync(path, CSV);
    const data = await loadRawBars({ path });
    expect(data.raw.columns.length).toBe(2);
    expect(data.sha256).toBe(createHash("sha256").update(CSV).digest("hex"));
  });

  it("calls a path that names no file a wrong path, naming it, not an unavailable source", async () => {
    const dir = mkdtempSync(join(tmpdir(), "bars-"));
    writeFileSync(join(dir, "file"), CSV);
    const cases: [string, string][] = [
      [join(dir, "absent.csv"), "no such file"],
      [dir, "is a directory, not a file"],
      [join(dir, "file", "bars.csv"), "a part of the path is not a directory"],
    ];
    for (const [path, why] of cases) {
      const err = await loadRawBars({ path }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(WrongDataSourceError);
      expect((err as Error).message).toBe(
        `data source path ${path}: ${why} (for a configMapRef source, the path ends in the ConfigMap key)`,
      );
    }
  });
});

describe("synthetic source", () => {
  it("hashes the generated columns: same seed same hash", async () => {
    const a = await loadRawBars({ synthetic: { seed: 3, bars: 100 } });
    const b = await loadRawBars({ synthetic: { seed: 3, bars: 100 } });
    const c = await loadRawBars({ synthetic: { seed: 4, bars: 100 } });
    expect(a.sha256).toBe(b.sha256);
    expect(a.sha256).not.toBe(c.sha256);
    expect(a.source).toBe("synthetic seed 3");
  });
});

describe("validateSourceSpec", () => {
  it("names the bad field", () => {
    expect(validateSourceSpec({ url: "ftp://x" }, "spec.training.data")).toEqual([
      "spec.training.data.url: must be an http:// or https:// URL",
    ]);
    expect(validateSourceSpec({ url: "http://x", path: "/y" }, "d")).toEqual([
      "d: must have exactly one of synthetic, url, path",
    ]);
    expect(validateSourceSpec({ url: "http://x", retries: -1 }, "d")).toEqual([
      "d.retries: must be an integer >= 0",
    ]);
    expect(validateSourceSpec({ synthetic: { seed: 1, bars: 0 } }, "d")).toEqual([
      "d.synthetic.bars: must be an integer from 500 to 5000000",
    ]);
    expect(validateSourceSpec({ synthetic: { seed: 1, bars: 1e12 } }, "d")).toEqual([
      "d.synthetic.bars: must be an integer from 500 to 5000000",
    ]);
    expect(validateSourceSpec({ path: "" }, "d")).toEqual(["d.path: must be a non-empty string"]);
  });

  it("refuses a field it does not know rather than ignore it, at every level", () => {
    expect(validateSourceSpec({ synthetic: { seed: 1, bars: 600, regim: "mixed" } }, "d")).toEqual([
      "d.synthetic.regim: unknown field (known: seed, bars, regime, startTs, barMs, drift)",
    ]);
    expect(
      validateSourceSpec({ synthetic: { seed: 1, bars: 600, drift: { fromBar: 10, volScale: 2 } } }, "d"),
    ).toEqual([
      "d.synthetic.drift.volScale: unknown field (known: fromBar, volatilityScale, signalScale, volumeScale)",
    ]);
    expect(validateSourceSpec({ url: "http://x", timeout: 5 }, "d")).toEqual([
      "d.timeout: unknown field (known: url, timeoutMs, retries)",
    ]);
    expect(validateSourceSpec({ path: "/y", retries: 2 }, "d")).toEqual([
      "d.retries: unknown field (known: path)",
    ]);
    expect(validateSourceSpec({ synthetic: { seed: 1 }, sha256: "x" }, "d")).toEqual([
      "d.sha256: unknown field (known: synthetic)",
      "d.synthetic.bars: must be an integer from 500 to 5000000",
    ]);
  });
});

import { execFile } from "node:child_process";
import { mkdtemp, writeFile } from "node:fs/promises";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import type { FixedRateReport } from "./http.ts";

const run = promisify(execFile);
const CLIENT = join(import.meta.dirname, "fixed-rate.ts");
let server: Server | undefined;
afterEach(() => server?.close());

/** A server answering every request with `status` after reading its body; returns its URL and the bodies it read. */
async function serve(status: number): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      bodies.push(body);
      // With its length, as every server the benchmark measures sends it (a chunked answer is refused).
      res
        .writeHead(status, { "content-type": "application/json", "content-length": 18 })
        .end('{"prediction":0.5}');
    });
  });
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/predict`, bodies };
}

async function fixedRate(url: string, rate: number, seconds: number): Promise<FixedRateReport> {
  const dir = await mkdtemp(join(tmpdir(), "fixed-rate-"));
  const bodiesPath = join(dir, "bodies.ndjson");
  await writeFile(bodiesPath, '{"features":[1]}\n{"features":[2]}\n');
  const { stdout } = await run(process.execPath, [CLIENT, url, String(rate), String(seconds), "2"], {
    env: { ...process.env, BENCH_BODIES: bodiesPath },
    timeout: 30_000,
  });
  return JSON.parse(stdout) as FixedRateReport;
}

describe("bench/fixed-rate.ts", () => {
  it("sends the schedule's requests after its warm-ups, each body in turn, and reports the measured ones", async () => {
    const { url, bodies } = await serve(200);
    const report = await fixedRate(url, 400, 0.5);
    // 200 closed-loop rounds on each of 2 connections, a second of the schedule, then the measured half second.
    expect(bodies).toHaveLength(2 * 200 + 400 + 200);
    expect(new Set(bodies)).toEqual(new Set(['{"features":[1]}', '{"features":[2]}']));
    expect(report).toMatchObject({
      sent: 200,
      completed: 200,
      failed: 0,
      overloaded: false,
      targetRate: 400,
    });
    expect(report.latencyMs?.p50).toBeGreaterThan(0);
    expect(report.latencyMs?.p99).toBeLessThan(1000);
    expect(report.scheduleLagMs?.p50).toBeGreaterThanOrEqual(0);
  });

  it("reports an answer it cannot delimit, or an error answer, as a failure naming it", async () => {
    const chunked = createServer((_req, res) => {
      res.write("{}");
      res.end();
    });
    await new Promise<void>((resolve) => chunked.listen(0, "127.0.0.1", resolve));
    try {
      const port = (chunked.address() as AddressInfo).port;
      const report = await fixedRate(`http://127.0.0.1:${port}/`, 400, 0.5);
      expect(report.firstError).toMatch(/chunked response/);
    } finally {
      chunked.close();
    }

    const { url } = await serve(503);
    const report = await fixedRate(url, 400, 0.5);
    expect(report.failed).toBeGreaterThan(0);
    expect(report.firstError).toMatch(/HTTP 503/);
  });
});

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
const servers: Server[] = [];
afterEach(() => {
  for (const server of servers.splice(0)) server.close();
});

/**
 * A server answering every request with `status` after reading its body, `delayMs` later; returns
 * its URL and the bodies it read.
 */
async function serve(status: number, delayMs = 0): Promise<{ url: string; bodies: string[] }> {
  const bodies: string[] = [];
  const server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      bodies.push(body);
      // With its length, as every server the benchmark measures sends it (a chunked answer is refused).
      setTimeout(
        () =>
          res
            .writeHead(status, { "content-type": "application/json", "content-length": 18 })
            .end('{"prediction":0.5}'),
        delayMs,
      );
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
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
      byUrl: [{ url, written: 2 * 200 + 400 + 200, sent: 200, completed: 200 }],
    });
    expect(report.byUrl[0]?.latencyMs?.p50).toBeGreaterThan(0);
    expect(report.byUrl[0]?.latencyMs?.p99).toBeLessThan(1000);
    expect(report.scheduleLagMs?.p50).toBeGreaterThanOrEqual(0);
  });

  it("given two URLs, sends each the requests of its own 50 ms slices and reports their latencies apart", async () => {
    const fast = await serve(200);
    const slow = await serve(200, 5);
    const report = await fixedRate(`${fast.url},${slow.url}`, 400, 0.5);
    // Each: 200 warm-up rounds on each of its 2 connections, then every other 50 ms slice (20
    // requests) of the unmeasured second and of the measured half second.
    expect(fast.bodies).toHaveLength(2 * 200 + 200 + 100);
    expect(slow.bodies).toHaveLength(2 * 200 + 200 + 100);
    expect(report).toMatchObject({
      sent: 200,
      completed: 200,
      failed: 0,
      byUrl: [
        { url: fast.url, written: fast.bodies.length, sent: 100, completed: 100 },
        { url: slow.url, written: slow.bodies.length, sent: 100, completed: 100 },
      ],
    });
    expect(report.byUrl[1]?.latencyMs?.p50).toBeGreaterThanOrEqual(4.5);
    expect(report.byUrl[0]?.latencyMs?.p50).toBeLessThan(4);
  });

  it("uses every connection in turn, so that a server's keep-alive timeout closes none of them", async () => {
    const { url } = await serve(200);
    (servers[0] as Server).keepAliveTimeout = 100;
    (servers[0] as Server).keepAliveTimeoutBuffer = 0;
    // A second of the schedule at 400/s, answered at once: one connection would carry it all.
    const report = await fixedRate(url, 400, 1);
    expect(report).toMatchObject({ failed: 0, firstError: "", completed: 400 });
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

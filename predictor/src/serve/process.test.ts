import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { Agent, createServer, type IncomingHttpHeaders, request } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type ArtifactFile, type ModelArtifact, serializeArtifact } from "../artifact.ts";
import { killServed, readyAddress, serve } from "./test-process.ts";
import { metricValue, testArtifact, writeTestArtifact } from "./test-support.ts";

/* The real `predictor serve` process, as a pod runs it, on a free port on 127.0.0.1. */

let dir: string;
let artifact: { path: string; sha256: string };
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "predictor-serve-"));
  artifact = await writeTestArtifact(dir);
});
afterAll(() => rm(dir, { recursive: true, force: true }));
afterEach(killServed);

/** Waits until the server has taken `count` requests into chaos latency: they are in flight. */
async function inFlight(url: string, count: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const text = await (await fetch(`${url}/metrics`)).text();
    if ((metricValue(text, "predictor_chaos_injected_total", { kind: "latency" }) ?? 0) >= count) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`${count} requests never reached the server`);
}

function post(url: string, path: string, body: unknown) {
  return fetch(`${url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
}

function predict(url: string) {
  return post(url, "/v1/predict", { features: { ret_1: 0.01, ret_5: 0, hl_range: 0.02 } });
}

interface Exchange {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  socket: Socket;
}

/**
 * POSTs `payload` to `path` in `pieces` writes 5 ms apart, so that the body reaches the server in
 * several TCP segments; without `contentLength` it goes chunked. Errors after the answer (the server
 * closing the connection while the rest is being written) are the point of some tests: ignored.
 */
function postInPieces(
  url: URL,
  agent: Agent,
  path: string,
  payload: string | Buffer,
  pieces: number,
  contentLength = true,
): Promise<Exchange> {
  return new Promise((resolve, reject) => {
    let answered = false;
    const headers: Record<string, string | number> = { "content-type": "application/json" };
    if (contentLength) headers["content-length"] = Buffer.byteLength(payload);
    const req = request(
      { host: url.hostname, port: url.port, path, method: "POST", agent, headers },
      (res) => {
        answered = true;
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, text, socket: req.socket as Socket }),
        );
      },
    );
    req.on("error", (err) => {
      if (!answered) reject(err);
    });
    const size = Math.ceil(payload.length / pieces);
    let offset = 0;
    const next = () => {
      if (req.destroyed) return;
      if (offset >= payload.length) {
        req.end();
        return;
      }
      // Answered before the whole body was sent (the 413): stop sending.
      if (answered) {
        req.destroy();
        return;
      }
      req.write(payload.slice(offset, offset + size));
      offset += size;
      setTimeout(next, 5);
    };
    next();
  });
}

describe("predictor serve (process)", () => {
  it("serves, and on SIGTERM turns unready, finishes the request in flight and exits 0", async () => {
    const served = serve({
      ARTIFACT_PATH: artifact.path,
      ARTIFACT_SHA256: artifact.sha256,
      MODEL_TRACK: "canary",
      CHAOS_LATENCY_MS: "2000",
      SHUTDOWN_DELAY_MS: "1500",
    });
    const url = await readyAddress(served);
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    const first = await predict(url);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({
      prediction: 0.003,
      model: "demo",
      modelVersion: "v2",
      track: "canary",
    });

    const slowRequest = predict(url);
    await inFlight(url, 2);
    served.child.kill("SIGTERM");
    // Unready within the SHUTDOWN_DELAY_MS window, in which it still answers.
    let readiness = 200;
    for (let i = 0; i < 20 && readiness === 200; i++) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      readiness = (await fetch(`${url}/readyz`)).status;
    }
    expect(readiness).toBe(503);
    const slow = await slowRequest;
    expect(slow.status).toBe(200);
    expect(((await slow.json()) as { prediction: number }).prediction).toBe(0.003);
    expect(await served.exited).toBe(0);
    for (const line of served.logs)
      expect(line).toMatchObject({ model: "demo", version: "v2", track: "canary" });
    expect(served.logs.map((l) => l.msg)).toContain("drained; exiting");
    expect(served.logs.find((l) => l.level === 40)).toMatchObject({
      msg: "chaos is on: /v1 requests are delayed or failed on purpose",
      chaosLatencyMs: 2000,
    });
  });

  it("keeps its young generation at 2 MB a semi-space (its pod's node flags); without them it starts at 8", async () => {
    const newSpaceBytes = async (url: string) =>
      metricValue(
        await (await fetch(`${url}/metrics`)).text(),
        "predictor_nodejs_heap_space_size_total_bytes",
        {
          space: "new",
        },
      );
    const rows = Array.from({ length: 1000 }, (_, i) => ({
      features: { ret_1: i * 1e-5, ret_5: -i * 1e-5, hl_range: 0.02 },
    }));
    const capped = await readyAddress(serve({ ARTIFACT_PATH: artifact.path }));
    for (let i = 0; i < 30; i++) {
      const res = await post(capped, "/v1/predict/batch", { rows });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
    }
    // The space's size is both semi-spaces.
    expect(await newSpaceBytes(capped)).toBe(2 * 2 * 1024 * 1024);
    const uncapped = await readyAddress(serve({ ARTIFACT_PATH: artifact.path }, []));
    expect(await newSpaceBytes(uncapped)).toBeGreaterThanOrEqual(2 * 8 * 1024 * 1024);
  });

  it("reads bodies that arrive in pieces on a kept-alive connection, and closes it after a 413", async () => {
    const served = serve({ ARTIFACT_PATH: artifact.path, BODY_LIMIT_BYTES: "100000" });
    const url = new URL(await readyAddress(served));
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const batch = JSON.stringify({ rows: Array(1000).fill({ features: [0.01, 0, 0.02] }) });
      const first = await postInPieces(url, agent, "/v1/predict/batch", batch, 10);
      expect(first.status).toBe(200);
      const results = (JSON.parse(first.text) as { results: { prediction: number }[] }).results;
      expect(results).toHaveLength(1000);
      expect(results.every((r) => r.prediction === 0.003)).toBe(true);
      expect(first.headers["content-length"]).toBe(String(Buffer.byteLength(first.text)));

      const second = await postInPieces(url, agent, "/v1/predict", '{"features": [0.01, 0, 0.02]}', 3);
      expect(second.status).toBe(200);
      expect(second.socket).toBe(first.socket);

      // 1,000-byte ASCII pieces, then a character whose UTF-8 bytes straddle two pieces (spaces
      // put its first byte at the end of one).
      const asciiRows = `${JSON.stringify({ rows: Array(400).fill({ features: [0.01, 0, 0.02] }) }).slice(0, -2)},`;
      const lastRow = '{"features": {"ret_1": 0, "ret_5": 0, "hl_range": 0, "\u00e9": 0}}]}';
      const before = Buffer.byteLength(asciiRows) + lastRow.indexOf("\u00e9") + 1;
      const padded = asciiRows + " ".repeat((1000 - (before % 1000)) % 1000) + lastRow;
      const body = Buffer.from(padded + " ".repeat((1000 - (Buffer.byteLength(padded) % 1000)) % 1000));
      expect(body.length % 1000).toBe(0);
      const unicode = await postInPieces(url, agent, "/v1/predict/batch", body, body.length / 1000);
      expect(unicode.status).toBe(400);
      expect(JSON.parse(unicode.text)).toMatchObject({ field: `rows[400].features["\u00e9"]` });

      // Chunked, so the limit is found while reading, not from content-length.
      const tooBig = JSON.stringify({ rows: Array(5000).fill({ features: [0.01, 0, 0.02] }) });
      const refused = await postInPieces(url, agent, "/v1/predict/batch", tooBig, 20, false);
      expect(refused.status).toBe(413);
      expect(JSON.parse(refused.text)).toMatchObject({ reason: "body_too_large", field: "body" });
      expect(refused.headers.connection).toBe("close");
      expect((await predict(url.origin)).status).toBe(200);
    } finally {
      agent.destroy();
    }
  });

  it("exits 1, without waiting for them, when requests in flight outlast SHUTDOWN_DEADLINE_MS", async () => {
    const served = serve({
      ARTIFACT_PATH: artifact.path,
      CHAOS_LATENCY_MS: "600000",
      SHUTDOWN_DEADLINE_MS: "300",
    });
    const url = await readyAddress(served);
    const stuck = predict(url).catch((err: Error) => err);
    await inFlight(url, 1);
    served.child.kill("SIGTERM");
    expect(await served.exited).toBe(1);
    expect(await stuck).toBeInstanceOf(Error);
  });

  it("refuses an artifact that is not the registered one: exit 2, naming both hashes", async () => {
    const served = serve({ ARTIFACT_PATH: artifact.path, ARTIFACT_SHA256: "0".repeat(64) });
    expect(await served.exited).toBe(2);
    const failure = served.logs.find((l) => l.msg === "cannot serve the artifact");
    expect((failure?.err as { message?: string } | undefined)?.message).toBe(
      `artifact sha256 ${artifact.sha256} is not the expected ${"0".repeat(64)}`,
    );
  });

  it("refuses an artifact edited after training, and one of another schema version: exit 2", async () => {
    const edited = join(dir, "edited.json");
    const file = JSON.parse(await readFile(artifact.path, "utf8")) as ArtifactFile;
    file.artifact.coefficients.intercept += 1;
    await writeFile(edited, JSON.stringify(file));
    const future = join(dir, "future.json");
    await writeFile(
      future,
      serializeArtifact({ ...testArtifact(), schemaVersion: 2 } as unknown as ModelArtifact),
    );
    const messages = [];
    for (const path of [edited, future]) {
      const served = serve({ ARTIFACT_PATH: path });
      expect(await served.exited).toBe(2);
      const failure = served.logs.find((l) => l.msg === "cannot serve the artifact");
      messages.push((failure?.err as { message?: string } | undefined)?.message);
    }
    expect(messages[0]).toMatch(
      /^artifact sha256 mismatch: file says [0-9a-f]{64}, content hashes to [0-9a-f]{64}$/,
    );
    expect(messages[1]).toBe("artifact schemaVersion 2 is not supported (want 1)");
  });

  it("exits 1 naming HOST and PORT when it cannot listen", async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, "127.0.0.1", resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const served = serve({ ARTIFACT_PATH: artifact.path, PORT: String(port) });
      expect(await served.exited).toBe(1);
      expect(served.logs.map((l) => l.msg)).toContain(
        `cannot listen on HOST=127.0.0.1 PORT=${port}: EADDRINUSE`,
      );
    } finally {
      taken.close();
    }
  });

  it("refuses bad settings: exit 2, naming the variable", async () => {
    const served = serve({ ARTIFACT_PATH: "/nowhere", PORT: "http" });
    let stderr = "";
    served.child.stderr?.on("data", (chunk) => {
      stderr += chunk;
    });
    expect(await served.exited).toBe(2);
    expect(stderr).toBe('predictor serve: PORT="http" is invalid: want an integer from 0 to 65535\n');
  });
});

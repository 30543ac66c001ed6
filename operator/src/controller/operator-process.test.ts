import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { stringify } from "yaml";

const main = resolve(import.meta.dirname, "../main.ts");

/** A loopback port nothing listens on: every apiserver call fails with ECONNREFUSED. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address() as { port: number };
  await new Promise((r) => server.close(r));
  return port;
}

function kubeconfigFor(port: number): string {
  const file = join(mkdtempSync(join(tmpdir(), "tmo-down-")), "kubeconfig");
  writeFileSync(
    file,
    stringify({
      apiVersion: "v1",
      kind: "Config",
      clusters: [{ name: "down", cluster: { server: `http://127.0.0.1:${port}` } }],
      users: [{ name: "u", user: { token: "x" } }],
      contexts: [{ name: "down", context: { cluster: "down", user: "u" } }],
      "current-context": "down",
    }),
  );
  return file;
}

const running: ChildProcess[] = [];
afterEach(() => {
  for (const child of running.splice(0)) child.kill("SIGKILL");
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, body: await response.text() };
}

describe("the operator process with its apiserver down", () => {
  it("keeps running, alive but not ready, counting the failed watches, and exits 0 on SIGTERM", async () => {
    const child = spawn(
      process.execPath,
      [
        main,
        `--kubeconfig=${kubeconfigFor(await closedPort())}`,
        "--metrics-host=127.0.0.1",
        "--metrics-port=0",
      ],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    running.push(child);
    let out = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      out += chunk.toString("utf8");
    });
    const exited = new Promise<number | null>((r) => child.once("exit", (code) => r(code)));
    const deadline = Date.now() + 15_000;
    let port = 0;
    while (!port && Date.now() < deadline) {
      const start = out.split("\n").find((l) => l.includes('"operator starting"'));
      if (start) port = (JSON.parse(start) as { metricsPort: number }).metricsPort;
      else await new Promise((r) => setTimeout(r, 100));
    }
    expect(port).toBeGreaterThan(0);
    // Informers fail, back off and start again: several rounds within a few seconds.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(child.exitCode).toBeNull();
    expect(await get(port, "/healthz")).toEqual({ status: 200, body: "ok\n" });
    expect((await get(port, "/readyz")).status).toBe(503);
    const metrics = (await get(port, "/metrics")).body;
    const watchErrors = Number(
      /tradingmodel_operator_errors_total\{source="watch"\} (\d+)/.exec(metrics)?.[1] ?? 0,
    );
    expect(watchErrors).toBeGreaterThanOrEqual(8);
    expect(metrics).toContain("tradingmodel_operator_leader 0");
    expect(out).toContain("watch failed; restarting the informer");
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
  });
});

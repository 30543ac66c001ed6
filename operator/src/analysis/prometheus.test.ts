import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ANALYSIS_METRICS } from "../../../predictor/src/serve/analysis-queries.ts";
import { createMetrics } from "../../../predictor/src/serve/metrics.ts";
import { StrategyPnl } from "../../../predictor/src/serve/pnl.ts";
import { PrometheusProvider, parseInstantVector } from "./prometheus.ts";

const fast = { timeoutMs: 300, retries: 2, backoffMs: 10 };
let server: Server | undefined;
afterEach(() => new Promise<void>((r) => (server ? server.close(() => r()) : r())));

/** A stand-in Prometheus on loopback answering each request with `answer(query, attempt)`. */
async function prometheus(
  answer: (query: string, attempt: number) => { status: number; body: string } | "hang",
) {
  let attempt = 0;
  const queries: string[] = [];
  server = createServer((req, res) => {
    const query = new URL(req.url ?? "", "http://x").searchParams.get("query") ?? "";
    queries.push(query);
    const a = answer(query, attempt++);
    if (a === "hang") return;
    res.writeHead(a.status, { "content-type": "application/json" }).end(a.body);
  });
  await new Promise<void>((r) => server?.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, queries };
}
const vector = (value: string) =>
  JSON.stringify({
    status: "success",
    data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] },
  });
const request = {
  version: 2,
  window: "30s",
  candidate: { namespace: "trading", model: "demo", version: "v2", track: "canary" },
};

describe("Prometheus provider", () => {
  it("reads one sample per query for the candidate's series", async () => {
    const p = await prometheus(() => ({ status: 200, body: vector("42") }));
    const m = await new PrometheusProvider(p.url, fast).measure(request, new Date("2026-11-24T10:00:00Z"));
    expect(m.candidate.feedback).toEqual({ value: 42 });
    expect(m.window).toBe("30s");
    expect(p.queries).toContain(
      'sum(increase(predictor_feedback_total{namespace="trading",model="demo",version="v2",track="canary"}[30s]))',
    );
    expect(m.stable).toBeUndefined();
  });

  it("reads a shadow's agreement from the series of the pods that mirror to it, by its version", async () => {
    const p = await prometheus(() => ({ status: 200, body: vector("7") }));
    const shadow = { ...request, candidate: { ...request.candidate, track: "shadow" } };
    const m = await new PrometheusProvider(p.url, fast).measure(shadow, new Date("2026-11-24T10:00:00Z"));
    expect(m.candidate.shadowCompared).toEqual({ value: 7 });
    expect(p.queries).toEqual(
      expect.arrayContaining([
        'sum(increase(predictor_shadow_compared_total{namespace="trading",model="demo",shadow_version="v2"}[30s]))',
        'sum(increase(predictor_shadow_sign_agreements_total{namespace="trading",model="demo",shadow_version="v2"}[30s]))',
        'sum(increase(predictor_shadow_abs_diff_sum{namespace="trading",model="demo",shadow_version="v2"}[30s]))',
        'sum(increase(predictor_http_requests_total{namespace="trading",model="demo",version="v2",track="shadow",route=~"/v1/predict.*|/v2/models/.*/infer"}[30s]))',
      ]),
    );
  });

  it("treats an empty vector or NaN as absent, not zero", () => {
    expect(parseInstantVector({ status: "success", data: { resultType: "vector", result: [] } })).toEqual({
      absent: true,
    });
    expect(parseInstantVector(JSON.parse(vector("NaN")))).toEqual({ absent: true });
  });

  it("retries a 5xx, then succeeds", async () => {
    const p = await prometheus((_q, attempt) =>
      attempt === 0 ? { status: 503, body: "busy" } : { status: 200, body: vector("1") },
    );
    expect(await new PrometheusProvider(p.url, fast).query("up", new Date())).toEqual({ value: 1 });
  });

  it("gives an error reading, never a value, for garbage, timeouts and a dead address", async () => {
    const garbage = await prometheus(() => ({ status: 200, body: "<html>proxy</html>" }));
    expect(await new PrometheusProvider(garbage.url, fast).query("up", new Date())).toEqual({
      error: expect.stringContaining("not JSON"),
    });
    expect(garbage.queries).toHaveLength(3);
    await new Promise<void>((r) => server?.close(() => r()));
    const slow = await prometheus(() => "hang");
    const r = await new PrometheusProvider(slow.url, fast).query("up", new Date());
    expect(r).toEqual({ error: expect.stringContaining("timed out after 300 ms") });
    server?.closeAllConnections();
    const dead = await new PrometheusProvider("http://127.0.0.1:9", fast).query("up", new Date());
    expect("error" in dead).toBe(true);
  });

  it("does not retry a query Prometheus refused as bad (4xx)", async () => {
    const p = await prometheus(() => ({ status: 400, body: '{"status":"error","error":"parse error"}' }));
    expect(await new PrometheusProvider(p.url, fast).query("up{", new Date())).toEqual({
      error: expect.stringContaining("HTTP 400"),
    });
    expect(p.queries).toHaveLength(1);
  });
});

describe("analysis queries", () => {
  it("name only metrics the predictor exports", async () => {
    const { registry } = createMetrics({ model: "m", version: "v1", track: "canary" });
    new StrategyPnl(registry);
    const exported = new Set(
      (await registry.getMetricsAsJSON()).flatMap((m) =>
        String(m.type) === "histogram" ? [`${m.name}_bucket`, `${m.name}_sum`, m.name] : [m.name],
      ),
    );
    for (const name of Object.values(ANALYSIS_METRICS)) expect(exported).toContain(name);
  });
});

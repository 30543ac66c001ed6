import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { ANALYSIS_METRICS } from "../../../predictor/src/serve/analysis-queries.ts";
import { createMetrics } from "../../../predictor/src/serve/metrics.ts";
import { StrategyPnl } from "../../../predictor/src/serve/pnl.ts";
import { analysisSchema } from "../api/delivery.ts";
import { admit } from "../api/local-admission.ts";
import type { TradingModelSpec } from "../api/types.ts";
import { configuredChecks, judge } from "./checks.ts";
import type { MeasurementRequest } from "./measurement.ts";
import { PrometheusProvider, parseInstantVector, unconfiguredMetrics } from "./prometheus.ts";

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
const analysis = (raw: Record<string, unknown>) =>
  admit(analysisSchema, raw).object as TradingModelSpec["analysis"];
const request: MeasurementRequest = {
  version: 2,
  window: "30s",
  checks: ["accuracy"],
  candidate: { namespace: "trading", model: "demo", version: "v2", track: "canary" },
};
const canary = '{namespace="trading",model="demo",version="v2",track="canary"';
const predictRoutes = ',route=~"/v1/predict.*|/v2/models/.*/infer"';

describe("Prometheus provider", () => {
  it("reads one sample per query for the candidate's series", async () => {
    const p = await prometheus(() => ({ status: 200, body: vector("42") }));
    const m = await new PrometheusProvider(p.url, fast).measure(request, new Date("2026-11-24T10:00:00Z"));
    expect(m.candidate.feedback).toEqual({ value: 42 });
    expect(m.window).toBe("30s");
    expect(p.queries).toContain(`sum(increase(predictor_feedback_total${canary}}[30s]))`);
    expect(m.stable).toBeUndefined();
  });

  it("sends only the queries of the configured checks: errorRate alone is two a measurement", async () => {
    const spec = analysis({ minSamples: 100, errorRate: { max: 0.01 } });
    const p = await prometheus((query) => ({
      status: 200,
      body: vector(query.includes("errors") ? "4" : "2000"),
    }));
    const m = await new PrometheusProvider(p.url, fast).measure(
      { ...request, checks: configuredChecks(spec) },
      new Date("2026-11-24T10:00:00Z"),
    );
    expect(p.queries.sort()).toEqual([
      `sum(increase(predictor_http_errors_total${canary}${predictRoutes}}[30s]))`,
      `sum(increase(predictor_http_requests_total${canary}${predictRoutes}}[30s]))`,
    ]);
    expect(m.candidate).toEqual({ requests: { value: 2000 }, errors: { value: 4 } });
    expect(judge(spec, m).map((r) => r.message)).toEqual(["error rate 0.002 <= 0.01 (4 of 2000 requests)"]);
  });

  it("asks each reading once however many checks judge from it, and stable only what comparing needs", async () => {
    const spec = analysis({
      accuracy: { min: 0.55 },
      accuracyVsStable: { confidence: 0.95 },
      latencyP95Ms: { max: 25 },
      errorRate: { max: 0.01 },
    });
    const p = await prometheus(() => ({ status: 200, body: vector("1") }));
    const stable = { ...request.candidate, version: "v1", track: "stable" };
    const m = await new PrometheusProvider(p.url, fast).measure(
      { ...request, checks: configuredChecks(spec), stable },
      new Date(),
    );
    expect(Object.keys(m.candidate).sort()).toEqual([
      "errors",
      "feedback",
      "feedbackHits",
      "latencyP95Seconds",
      "requests",
    ]);
    expect(Object.keys(m.stable ?? {}).sort()).toEqual(["feedback", "feedbackHits"]);
    // 7 distinct queries, where asking every reading on both tracks was 24.
    expect(p.queries).toHaveLength(7);
    expect(new Set(p.queries).size).toBe(7);
  });

  it("without a Prometheus, says so on each reading the checks need, which holds the rollout", async () => {
    const spec = analysis({ minSamples: 100, onNoData: "Pass", latencyP95Ms: { max: 25 } });
    const m = await unconfiguredMetrics.measure({ ...request, checks: configuredChecks(spec) }, new Date());
    expect(Object.keys(m.candidate)).toEqual(["requests", "latencyP95Seconds"]);
    expect(judge(spec, m)[0]).toMatchObject({ verdict: "NoData" });
    expect(judge(spec, m)[0]?.message).toContain("no Prometheus configured");
  });

  it("reads a shadow's agreement from the series of the pods that mirror to it, by its version", async () => {
    const p = await prometheus(() => ({ status: 200, body: vector("7") }));
    const shadow = {
      ...request,
      checks: ["errorRate", "signAgreement", "meanAbsDiff"] as const,
      candidate: { ...request.candidate, track: "shadow" },
    };
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

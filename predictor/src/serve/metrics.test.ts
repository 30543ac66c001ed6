import { collectDefaultMetrics, Registry } from "prom-client";
import { afterEach, describe, expect, it } from "vitest";
import type { TestPredictor } from "./test-support.ts";
import { metricValue, scrape, testArtifactFile, testPredictor } from "./test-support.ts";

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

function predict(features: number[]) {
  return predictor.inject({ method: "POST", url: "/v1/predict", payload: { features } });
}

describe("GET /metrics", () => {
  it("labels every series with model, version and track, and names the artifact", async () => {
    predictor = testPredictor({ MODEL_NAME: "btc-1h", MODEL_VERSION: "v3", MODEL_TRACK: "canary" });
    const res = await predictor.inject({ url: "/metrics" });
    expect(res.headers["content-type"]).toMatch(/^text\/plain; version=0\.0\.4/);
    const labels = { model: "btc-1h", version: "v3", track: "canary" };
    expect(
      metricValue(res.body, "predictor_model_info", {
        ...labels,
        artifact_sha256: testArtifactFile().sha256,
        features: "ret_1,ret_5,hl_range",
        algorithm: "linear",
      }),
    ).toBe(1);
    expect(metricValue(res.body, "predictor_ready", labels)).toBe(1);
    expect(metricValue(res.body, "predictor_process_cpu_seconds_total", labels)).toBeGreaterThanOrEqual(0);
  });

  it("serves prom-client's default runtime metrics except the duration of each garbage collection", async () => {
    const defaults = new Registry();
    collectDefaultMetrics({ register: defaults, prefix: "predictor_" });
    const defaultNames = (await defaults.getMetricsAsJSON()).map((m) => m.name);
    predictor = testPredictor();
    const served = new Set([...(await scrape(predictor)).matchAll(/^# TYPE (\S+)/gm)].map((m) => m[1]));
    const expected = defaultNames.filter((n) => n !== "predictor_nodejs_gc_duration_seconds");
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.filter((n) => !served.has(n))).toEqual([]);
    expect(served.has("predictor_nodejs_gc_duration_seconds")).toBe(false);
    expect(served.has("predictor_nodejs_eventloop_lag_p99_seconds")).toBe(true);
  });

  it("times requests in buckets fine enough for a p95 between 0.5 and 50 ms", async () => {
    predictor = testPredictor();
    await predict([0, 0, 0.02]);
    await predict([0, 0, 0.02]);
    const text = await scrape(predictor);
    const series = { route: "/v1/predict", status: "200" };
    expect(metricValue(text, "predictor_http_request_duration_seconds_count", series)).toBe(2);
    expect(metricValue(text, "predictor_http_requests_total", series)).toBe(2);
    const bounds = [
      ...text.matchAll(
        /predictor_http_request_duration_seconds_bucket\{le="([^"]+)"[^}]*route="\/v1\/predict"/g,
      ),
    ]
      .map((m) => Number(m[1]))
      .filter((b) => b >= 0.0005 && b <= 0.05);
    expect(bounds.length).toBeGreaterThanOrEqual(14);
    for (let i = 1; i < bounds.length; i++)
      expect((bounds[i] as number) / (bounds[i - 1] as number)).toBeLessThanOrEqual(2);
    expect(metricValue(await scrape(predictor), "predictor_predictions_total")).toBe(2);
  });

  it("counts errors by route and reason", async () => {
    predictor = testPredictor();
    await predict([0, 0]);
    await predictor.inject({
      method: "POST",
      url: "/v1/predict",
      headers: { "content-type": "text/csv" },
      payload: "1,2",
    });
    await predictor.inject({ url: "/nowhere" });
    const text = await scrape(predictor);
    expect(
      metricValue(text, "predictor_http_errors_total", { route: "/v1/predict", reason: "invalid_body" }),
    ).toBe(1);
    expect(
      metricValue(text, "predictor_http_errors_total", {
        route: "/v1/predict",
        reason: "unsupported_media_type",
      }),
    ).toBe(1);
    expect(
      metricValue(text, "predictor_http_errors_total", { route: "unmatched", reason: "not_found" }),
    ).toBe(1);
    expect(metricValue(text, "predictor_http_requests_total", { route: "/v1/predict", status: "400" })).toBe(
      1,
    );
  });

  it("reports PSI per feature over the recent window: high for a drifted feature, low for the others", async () => {
    predictor = testPredictor({ PSI_WINDOW: "50" });
    // ret_1 far above its training deciles; ret_5 and hl_range spread over theirs.
    for (let i = 0; i < 50; i++) await predict([0.05, -0.027 + 0.006 * (i % 10), 0.0065 + 0.003 * (i % 10)]);
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_feature_psi", { feature: "ret_1" })).toBeGreaterThan(0.25);
    expect(metricValue(text, "predictor_feature_psi", { feature: "ret_5" })).toBeLessThan(0.01);
    expect(metricValue(text, "predictor_feature_psi", { feature: "hl_range" })).toBeLessThan(0.01);
    expect(metricValue(text, "predictor_psi_window_rows")).toBe(50);
  });

  it("reports not ready before the model is loaded", async () => {
    predictor = testPredictor({}, { load: false });
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_ready")).toBe(0);
    expect(metricValue(text, "predictor_model_info")).toBeUndefined();
  });
});

describe("chaos", () => {
  it("is off by default", async () => {
    predictor = testPredictor();
    for (let i = 0; i < 20; i++) expect((await predict([0, 0, 0])).statusCode).toBe(200);
    expect(metricValue(await scrape(predictor), "predictor_chaos_injected_total")).toBeUndefined();
  });

  it("fails the configured fraction of /v1 calls with 503 chaos, counted", async () => {
    const draws = [0.1, 0.5, 0.29, 0.9];
    predictor = testPredictor({ CHAOS_ERROR_FRACTION: "0.3" }, { random: () => draws.shift() ?? 1 });
    const statuses = [];
    for (let i = 0; i < 4; i++) statuses.push((await predict([0, 0, 0])).statusCode);
    expect(statuses).toEqual([503, 200, 503, 200]);
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_http_errors_total", { route: "/v1/predict", reason: "chaos" })).toBe(
      2,
    );
    expect(metricValue(text, "predictor_chaos_injected_total", { kind: "error" })).toBe(2);
  });

  it("answers a chaos error with a reason, and leaves the probes alone", async () => {
    predictor = testPredictor({ CHAOS_ERROR_FRACTION: "1" });
    const res = await predict([0, 0, 0]);
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ error: "chaos: injected error (CHAOS_ERROR_FRACTION)", reason: "chaos" });
    for (const url of ["/healthz", "/readyz", "/metrics"]) {
      expect((await predictor.inject({ url })).statusCode).toBe(200);
    }
  });

  it("adds CHAOS_LATENCY_MS to /v1 calls, not to probes", async () => {
    predictor = testPredictor({ CHAOS_LATENCY_MS: "250" });
    const res = await predict([0, 0, 0]);
    expect(res.statusCode).toBe(200);
    expect(Number(res.headers["server-timing"]?.toString().split("dur=")[1])).toBeGreaterThanOrEqual(249);
    const probe = await predictor.inject({ url: "/readyz" });
    expect(Number(probe.headers["server-timing"]?.toString().split("dur=")[1])).toBeLessThan(249);
  });
});

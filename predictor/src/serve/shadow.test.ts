import { afterEach, describe, expect, it } from "vitest";
import { UNREACHABLE_BACKOFF } from "./shadow.ts";
import type { TestPredictor } from "./test-support.ts";
import { metricValue, scrape, testArtifact, testArtifactFile, testPredictor } from "./test-support.ts";

/*
 * Two real predictors on 127.0.0.1: the primary mirrors to the shadow over HTTP. The shadow's
 * model differs in its intercept only: -0.001 instead of +0.001.
 */

const started: TestPredictor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.app.close()));
});

async function startShadow(env: Record<string, string> = {}): Promise<string> {
  const shadow = testPredictor({ MODEL_TRACK: "shadow", ...env }, { load: false });
  const { coefficients } = testArtifact();
  shadow.state.load(testArtifactFile({ coefficients: { ...coefficients, intercept: -0.001 } }));
  started.push(shadow);
  return shadow.app.listen({ port: 0, host: "127.0.0.1" });
}

function startPrimary(env: Record<string, string>): TestPredictor {
  const primary = testPredictor(env);
  started.push(primary);
  return primary;
}

/** A primary whose mirror calls go to `shadowFetch` instead of the network. */
function primaryWithShadowClient(shadowFetch: typeof fetch, env: Record<string, string> = {}): TestPredictor {
  const primary = testPredictor({ SHADOW_URL: "http://127.0.0.1:9", ...env }, { fetch: shadowFetch });
  started.push(primary);
  return primary;
}

function predict(p: TestPredictor, features: number[]) {
  return p.inject({ method: "POST", url: "/v1/predict", payload: { features } });
}

describe("shadow mirroring", () => {
  it("mirrors single and batch predictions and compares the shadow's answers", async () => {
    const primary = startPrimary({ SHADOW_URL: await startShadow() });
    // The primary predicts 0.001 + 0.2 * ret_1 here, the shadow 0.002 less.
    await predict(primary, [0.01, 0, 0.02]);
    await predict(primary, [0, 0, 0.02]);
    const batch = await primary.inject({
      method: "POST",
      url: "/v1/predict/batch",
      payload: { rows: [{ features: [-0.01, 0, 0.02] }, { features: [0.001, 0, 0.02] }] },
    });
    expect(batch.statusCode).toBe(200);
    await primary.state.shadow?.idle();
    const text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(3);
    expect(metricValue(text, "predictor_shadow_compared_total", { shadow_version: "v1" })).toBe(4);
    // 0.003 vs 0.001, -0.001 vs -0.003 agree; 0.001 vs -0.001 and 0.0012 vs -0.0008 do not.
    expect(metricValue(text, "predictor_shadow_sign_agreements_total")).toBe(2);
    expect(metricValue(text, "predictor_shadow_abs_diff_count")).toBe(4);
    expect(metricValue(text, "predictor_shadow_abs_diff_bucket", { le: "0.001" })).toBe(0);
    expect(metricValue(text, "predictor_shadow_abs_diff_bucket", { le: "0.0025" })).toBe(4);
    expect(metricValue(text, "predictor_shadow_errors_total")).toBeUndefined();
  });

  it("does not wait for a slow shadow, and times the mirror call out", async () => {
    const shadowUrl = await startShadow({ CHAOS_LATENCY_MS: "800" });
    const primary = startPrimary({ SHADOW_URL: shadowUrl, SHADOW_TIMEOUT_MS: "200", SHADOW_RETRIES: "0" });
    const res = await predict(primary, [0, 0, 0.02]);
    expect(res.statusCode).toBe(200);
    expect(Number(String(res.headers["server-timing"]).split("dur=")[1])).toBeLessThan(200);
    await primary.state.shadow?.idle();
    const text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_errors_total", { reason: "timeout" })).toBe(1);
    expect(metricValue(text, "predictor_shadow_compared_total")).toBeUndefined();
  });

  it("answers before it serializes or sends the copy", async () => {
    // A shadow client that holds the thread for 300 ms: were the copy sent before the answer, the
    // primary's own server time would include it.
    let calls = 0;
    const blockingFetch: typeof fetch = async () => {
      calls++;
      const until = performance.now() + 300;
      while (performance.now() < until);
      return Response.json({ prediction: 0.001 });
    };
    const primary = primaryWithShadowClient(blockingFetch);
    for (const url of ["/v1/predict", "/v1/predict/batch"]) {
      const payload =
        url === "/v1/predict" ? { features: [0, 0, 0.02] } : { rows: [{ features: [0, 0, 0.02] }] };
      const res = await primary.inject({ method: "POST", url, payload });
      expect(res.statusCode).toBe(200);
      expect(Number(String(res.headers["server-timing"]).split("dur=")[1])).toBeLessThan(150);
      await primary.state.shadow?.idle();
    }
    expect(calls).toBe(2);
  });

  it("retries a copy that failed to reach the shadow, then compares", async () => {
    const attempts: number[] = [];
    const flakyFetch: typeof fetch = async () => {
      attempts.push(performance.now());
      if (attempts.length < 3) throw new TypeError("fetch failed: connection refused");
      return Response.json({ prediction: 0.001 });
    };
    const primary = primaryWithShadowClient(flakyFetch, { SHADOW_RETRIES: "2" });
    expect((await predict(primary, [0, 0, 0.02])).statusCode).toBe(200);
    await primary.state.shadow?.idle();
    expect(attempts).toHaveLength(3);
    const text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(1);
    expect(metricValue(text, "predictor_shadow_compared_total")).toBe(1);
    expect(metricValue(text, "predictor_shadow_errors_total")).toBeUndefined();
  });

  it("gives up after SHADOW_RETRIES more attempts and counts one error", async () => {
    let attempts = 0;
    const downFetch: typeof fetch = async () => {
      attempts++;
      throw new TypeError("fetch failed: connection refused");
    };
    const primary = primaryWithShadowClient(downFetch, { SHADOW_RETRIES: "1" });
    expect((await predict(primary, [0, 0, 0.02])).statusCode).toBe(200);
    await primary.state.shadow?.idle();
    expect(attempts).toBe(2);
    expect(metricValue(await scrape(primary), "predictor_shadow_errors_total", { reason: "network" })).toBe(
      1,
    );
  });

  it("drops what does not fit the queue, and counts it", async () => {
    // The first copy is in flight for a second, the second waits, the other three find the queue full.
    const shadowUrl = await startShadow({ CHAOS_LATENCY_MS: "1000" });
    const primary = startPrimary({
      SHADOW_URL: shadowUrl,
      SHADOW_QUEUE: "1",
      SHADOW_CONCURRENCY: "1",
      SHADOW_TIMEOUT_MS: "10000",
    });
    const answers = await Promise.all(Array.from({ length: 5 }, () => predict(primary, [0, 0, 0.02])));
    expect(answers.map((a) => a.statusCode)).toEqual([200, 200, 200, 200, 200]);
    await primary.state.shadow?.idle();
    const text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_dropped_total")).toBe(3);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(2);
    expect(metricValue(text, "predictor_shadow_compared_total")).toBe(2);
  });

  it("skips copies while no shadow listens, without retrying, and mirrors again after a backoff", async () => {
    const closed = await startShadow();
    await started.pop()?.app.close();
    let now = 1_000_000;
    const primary = testPredictor({ SHADOW_URL: closed, SHADOW_RETRIES: "2" }, { now: () => now });
    started.push(primary);
    expect((await predict(primary, [0, 0, 0.02])).statusCode).toBe(200);
    await primary.state.shadow?.idle();
    let text = await scrape(primary);
    // Connection refused is "no shadow running", not a blip: one attempt, no retry.
    expect(metricValue(text, "predictor_shadow_errors_total", { reason: "unreachable" })).toBe(1);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(1);
    // Within the first backoff (at least half its base) copies are skipped without a call.
    now += UNREACHABLE_BACKOFF.baseMs / 2 - 1;
    for (let i = 0; i < 3; i++) expect((await predict(primary, [0, 0, 0.02])).statusCode).toBe(200);
    await primary.state.shadow?.idle();
    text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_skipped_total")).toBe(3);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(1);
    // A shadow comes up at that address; after the backoff the next copy reaches it.
    const shadow = testPredictor({ MODEL_TRACK: "shadow", MODEL_VERSION: "v7" });
    started.push(shadow);
    await shadow.app.listen({ port: Number(new URL(closed).port), host: "127.0.0.1" });
    now += UNREACHABLE_BACKOFF.baseMs;
    expect((await predict(primary, [0, 0, 0.02])).statusCode).toBe(200);
    await primary.state.shadow?.idle();
    text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(2);
    expect(metricValue(text, "predictor_shadow_compared_total", { shadow_version: "v7" })).toBe(1);
    expect(metricValue(text, "predictor_shadow_sign_agreements_total", { shadow_version: "v7" })).toBe(1);
  });

  it("counts a shadow that rejects the request (say, a model with other features)", async () => {
    const shadow = testPredictor({ MODEL_TRACK: "shadow" }, { load: false });
    shadow.state.load(
      testArtifactFile({
        features: ["ret_1", "ret_5", "vol_10"],
        reference: {
          ...testArtifact().reference,
          vol_10: { edges: [1, 2, 3], proportions: [0.25, 0.25, 0.25, 0.25] },
        },
      }),
    );
    started.push(shadow);
    const primary = startPrimary({ SHADOW_URL: await shadow.app.listen({ port: 0, host: "127.0.0.1" }) });
    const res = await primary.inject({
      method: "POST",
      url: "/v1/predict",
      payload: { features: { ret_1: 0, ret_5: 0, hl_range: 0.02 } },
    });
    expect(res.statusCode).toBe(200);
    await primary.state.shadow?.idle();
    expect(metricValue(await scrape(primary), "predictor_shadow_errors_total", { reason: "rejected" })).toBe(
      1,
    );
  });
});

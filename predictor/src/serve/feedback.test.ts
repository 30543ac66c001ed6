import { afterEach, describe, expect, it } from "vitest";
import type { TestPredictor } from "./test-support.ts";
import { metricValue, scrape, testPredictor } from "./test-support.ts";

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

function post(url: string, body: unknown) {
  return predictor.inject({ method: "POST", url, payload: body as object });
}

/** Predicts rows whose predictions are, in order, positive, negative, positive; returns their ids. */
async function predictThree(): Promise<string[]> {
  const rows = [{ features: [0.01, 0, 0.02] }, { features: [-0.01, 0, 0.02] }, { features: [0.02, 0, 0.02] }];
  const res = await post("/v1/predict/batch", { rows });
  return res.json().results.map((r: { predictionId: string; prediction: number }) => r.predictionId);
}

describe("POST /v1/feedback", () => {
  it("scores a prediction against the realized return and counts hits per version and track", async () => {
    predictor = testPredictor({ MODEL_TRACK: "canary", MODEL_VERSION: "v7" });
    const [up, down, up2] = await predictThree();
    expect((await post("/v1/feedback", { predictionId: up, realized: 0.004 })).json()).toEqual({
      predictionId: up,
      status: "scored",
      hit: true,
    });
    expect((await post("/v1/feedback", { predictionId: down, realized: 0.001 })).json().hit).toBe(false);
    expect((await post("/v1/feedback", { predictionId: up2, realized: 0.002 })).json().hit).toBe(true);
    const metrics = await scrape(predictor);
    const labels = { version: "v7", track: "canary", model: "demo" };
    expect(metricValue(metrics, "predictor_feedback_total", labels)).toBe(3);
    expect(metricValue(metrics, "predictor_feedback_hits_total", labels)).toBe(2);
  });

  it("answers 404 for an unknown id, and for an id already scored, and counts both", async () => {
    predictor = testPredictor();
    const [id] = await predictThree();
    const unknown = await post("/v1/feedback", { predictionId: "nope", realized: 0.1 });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toMatchObject({ reason: "unknown_prediction", field: "predictionId" });
    expect(unknown.json().error).toMatch(/^predictionId "nope" is unknown/);
    expect((await post("/v1/feedback", { predictionId: id, realized: 0.1 })).statusCode).toBe(200);
    expect((await post("/v1/feedback", { predictionId: id, realized: 0.1 })).statusCode).toBe(404);
    const metrics = await scrape(predictor);
    expect(metricValue(metrics, "predictor_feedback_unmatched_total", { reason: "unknown" })).toBe(2);
    expect(metricValue(metrics, "predictor_feedback_total")).toBe(1);
    expect(
      metricValue(metrics, "predictor_http_errors_total", {
        route: "/v1/feedback",
        reason: "unknown_prediction",
      }),
    ).toBe(2);
  });

  it("answers 404 expired for a prediction older than FEEDBACK_TTL_MS", async () => {
    let now = 0;
    predictor = testPredictor({ FEEDBACK_TTL_MS: "60000" }, { now: () => now });
    const [id] = await predictThree();
    now = 60_001;
    const res = await post("/v1/feedback", { predictionId: id, realized: 0.1 });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ reason: "expired_prediction", field: "predictionId" });
    expect(
      metricValue(await scrape(predictor), "predictor_feedback_unmatched_total", { reason: "expired" }),
    ).toBe(1);
  });

  it("forgets predictions beyond FEEDBACK_CACHE_SIZE", async () => {
    predictor = testPredictor({ FEEDBACK_CACHE_SIZE: "2" });
    const [first, , last] = await predictThree();
    expect((await post("/v1/feedback", { predictionId: first, realized: 0.1 })).statusCode).toBe(404);
    expect((await post("/v1/feedback", { predictionId: last, realized: 0.1 })).statusCode).toBe(200);
  });

  it("scores a batch item by item", async () => {
    predictor = testPredictor();
    const [up, down] = await predictThree();
    const res = await post("/v1/feedback", {
      items: [
        { predictionId: up, realized: 0.01 },
        { predictionId: "gone", realized: 0.01 },
        { predictionId: down, realized: 0.01 },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [
        { predictionId: up, status: "scored", hit: true },
        { predictionId: "gone", status: "unknown" },
        { predictionId: down, status: "scored", hit: false },
      ],
      scored: 2,
      hits: 1,
      unknown: 1,
      expired: 0,
    });
  });

  it.each([
    [{ predictionId: "a", realized: "NaN" }, "realized", "realized must be number"],
    [{ predictionId: "a", realized: null }, "realized", "realized must be number"],
    [{ predictionId: "a" }, "realized", "realized is required (or items)"],
    [{ realized: 0.1 }, "predictionId", "predictionId is required (or items)"],
    [{ predictionId: 5, realized: 0.1 }, "predictionId", "predictionId must be string"],
    [{ predictionId: "a", realized: 0.1, extra: true }, "extra", "extra is not a known field"],
    [
      { items: [{ predictionId: "a", realized: 1 }, { predictionId: "b" }] },
      "items[1].realized",
      "items[1].realized is required",
    ],
    [
      { items: [{ predictionId: "a", realized: 1 }], realized: 1 },
      "realized",
      "realized cannot be given with items (one form or the other)",
    ],
    [{ items: [] }, "items", "items must NOT have fewer than 1 items"],
  ])("rejects %o naming %s", async (body, field, error) => {
    predictor = testPredictor();
    const res = await post("/v1/feedback", body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error, reason: "invalid_body", field });
  });
});

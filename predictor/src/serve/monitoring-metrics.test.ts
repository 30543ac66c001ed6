import { afterEach, describe, expect, it } from "vitest";
import { normalCdf, normalQuantile, signConfidence, tableNormalCdf } from "./confidence.ts";
import type { TestPredictor } from "./test-support.ts";
import { metricValue, scrape, testArtifactFile, testBars, testPredictor } from "./test-support.ts";

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

function post(url: string, body: unknown) {
  return predictor.inject({ method: "POST", url, payload: body as object });
}

/** The scrape's `le` buckets of the confidence histogram, cumulative, by bound. */
function confidenceBuckets(text: string): Map<string, number> {
  const buckets = new Map<string, number>();
  for (const m of text.matchAll(/^predictor_prediction_confidence_bucket\{le="([^"]+)"[^}]*\} (\S+)$/gm)) {
    buckets.set(m[1] as string, Number(m[2]));
  }
  return buckets;
}

describe("prediction confidence", () => {
  it("reads the normal CDF from its table within 2e-6, 0 and 1 beyond it", () => {
    for (let z = -9; z <= 9; z += 0.0137)
      expect(Math.abs(tableNormalCdf(z) - normalCdf(z))).toBeLessThan(2e-6);
    expect([tableNormalCdf(-50), tableNormalCdf(50), tableNormalCdf(Number.NaN)]).toEqual([0, 1, 0]);
  });

  it("is the normal probability of the predicted sign under the holdout residual interval", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(1)).toBeCloseTo(0.841345, 6);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959964, 5);
    // A centred 90% interval of +-1.645 sigma with sigma = 0.01.
    const z = normalQuantile(0.95);
    const confidence = signConfidence({ level: 0.9, lower: -z * 0.01, upper: z * 0.01 });
    expect(confidence(0.01)).toBeCloseTo(0.841345, 5);
    expect(confidence(-0.01)).toBeCloseTo(0.841345, 5);
    expect(confidence(0)).toBeCloseTo(0.5, 7);
    // A residual mean of +0.01 makes an up call of 0 as sure as +0.01 was above, a down call of -0.01 a coin toss.
    const biased = signConfidence({ level: 0.9, lower: 0.01 - z * 0.01, upper: 0.01 + z * 0.01 });
    expect(biased(0)).toBeCloseTo(0.841345, 5);
    expect(biased(-0.01)).toBeCloseTo(0.5, 5);
  });
});

describe("monitoring metrics of the predictor", () => {
  it("records each row's confidence, the interval's nominal level and the newest bar's timestamp", async () => {
    predictor = testPredictor();
    const bars = testBars(10);
    const res = await post("/v1/predict/batch", {
      rows: [{ bars: bars.slice(0, 8) }, { bars }, { features: [0, 0, 0.02] }],
    });
    expect(res.statusCode).toBe(200);
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_prediction_confidence_count")).toBe(3);
    // The test model's interval [-0.01, 0.012] at 0.9: sigma 0.00669, mean 0.001, so the features
    // row's prediction 0.001 has confidence Phi(0.002 / 0.00669) = 0.617.
    const confidence = signConfidence(testArtifactFile().artifact.interval);
    expect(confidence(0.001)).toBeCloseTo(0.6175, 3);
    expect(confidenceBuckets(text).get("0.6")).toBe(
      [...res.json().results].filter((r: { prediction: number }) => confidence(r.prediction) <= 0.6).length,
    );
    expect(metricValue(text, "predictor_prediction_confidence_sum")).toBeCloseTo(
      res.json().results.reduce((s: number, r: { prediction: number }) => s + confidence(r.prediction), 0),
      9,
    );
    expect(metricValue(text, "predictor_interval_nominal_level")).toBe(0.9);
    const newest = (bars[bars.length - 1]?.ts as number) / 1000;
    expect(metricValue(text, "predictor_data_newest_bar_timestamp_seconds")).toBe(newest);
  });

  it("records a 1,000-row batch as 1,000 rows, over /v1 and over OIP, each metric updated once for it", async () => {
    // A window of 300 rows: the batch's last 300 rows are what it holds.
    predictor = testPredictor({ PSI_WINDOW: "300" });
    const rows = Array.from({ length: 1000 }, (_, i) => [(i < 700 ? 0.05 : -0.05) * (1 + i / 1000), 0, 0.02]);
    const res = await post("/v1/predict/batch", { rows: rows.map((features) => ({ features })) });
    expect(res.statusCode).toBe(200);
    const predictions: number[] = res.json().results.map((r: { prediction: number }) => r.prediction);
    const confidence = signConfidence(testArtifactFile().artifact.interval);
    const sumOfConfidences = (ys: number[]) => ys.reduce((s, y) => s + confidence(y), 0);
    let text = await scrape(predictor);
    expect(metricValue(text, "predictor_predictions_total")).toBe(1000);
    expect(metricValue(text, "predictor_prediction_confidence_count")).toBe(1000);
    expect(metricValue(text, "predictor_prediction_confidence_sum")).toBeCloseTo(
      sumOfConfidences(predictions),
      9,
    );
    expect(metricValue(text, "predictor_psi_window_rows")).toBe(300);
    // Every ret_1 of the last 300 rows is below the lowest decile: the first 700, above the top one, left.
    expect(metricValue(text, "predictor_feature_ks", { feature: "ret_1" })).toBeCloseTo(0.9, 12);

    const oip = await post("/v2/models/demo/infer", {
      inputs: [{ name: "input-0", shape: [1000, 3], datatype: "FP64", data: rows.flat() }],
    });
    expect(oip.statusCode).toBe(200);
    text = await scrape(predictor);
    expect(metricValue(text, "predictor_predictions_total")).toBe(2000);
    expect(metricValue(text, "predictor_prediction_confidence_count")).toBe(2000);
    expect(metricValue(text, "predictor_prediction_confidence_sum")).toBeCloseTo(
      2 * sumOfConfidences(predictions),
      9,
    );
    expect(metricValue(text, "predictor_feature_ks", { feature: "ret_1" })).toBeCloseTo(0.9, 12);
  });

  it("reads the newest bar of OIP bar tensors as of /v1 {bars} rows", async () => {
    predictor = testPredictor();
    const bars = testBars(12);
    const windows = [bars.slice(4), bars.slice(0, 8)];
    const res = await post("/v2/models/demo/infer", {
      inputs: (["ts", "open", "high", "low", "close", "volume"] as const).map((key) => ({
        name: key,
        shape: [2, 8],
        datatype: "FP64",
        data: windows.map((w) => w.map((bar) => bar[key])),
      })),
    });
    expect(res.statusCode).toBe(200);
    const newest = (bars[11]?.ts as number) / 1000;
    expect(metricValue(await scrape(predictor), "predictor_data_newest_bar_timestamp_seconds")).toBe(newest);
  });

  it("has no data-age series before a {bars} row, and a failed request moves nothing", async () => {
    predictor = testPredictor();
    await post("/v1/predict", { features: [0, 0, 0.02] });
    const bars = testBars(10);
    const bad = await post("/v1/predict/batch", { rows: [{ bars }, { features: [0, 0] }] });
    expect(bad.statusCode).toBe(400);
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_data_newest_bar_timestamp_seconds")).toBeUndefined();
    expect(metricValue(text, "predictor_prediction_confidence_count")).toBe(1);
  });

  it("counts refused prediction inputs by reason, not errors of the server or of other routes", async () => {
    predictor = testPredictor();
    await post("/v1/predict", { features: [0, 0] });
    await post("/v1/predict", { features: [0, 0, "x"] });
    await predictor.inject({
      method: "POST",
      url: "/v1/predict",
      payload: "{",
      headers: { "content-type": "application/json" },
    });
    await post("/v1/feedback", { predictionId: "nope", realized: 0.1 });
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_rejected_inputs_total", { reason: "invalid_body" })).toBe(2);
    expect(metricValue(text, "predictor_rejected_inputs_total", { reason: "invalid_json" })).toBe(1);
    expect(metricValue(text, "predictor_rejected_inputs_total")).toBe(3);
  });

  it("counts feedback whose realized return fell inside the prediction interval", async () => {
    predictor = testPredictor();
    // Prediction 0.001, interval [-0.009, 0.013].
    const res = await post("/v1/predict/batch", { rows: Array(4).fill({ features: [0, 0, 0.02] }) });
    const ids = res.json().results.map((r: { predictionId: string }) => r.predictionId);
    const realized = [0.005, -0.0089, 0.0131, -0.02];
    for (const [i, id] of ids.entries())
      await post("/v1/feedback", { predictionId: id, realized: realized[i] });
    const text = await scrape(predictor);
    expect(metricValue(text, "predictor_feedback_total")).toBe(4);
    expect(metricValue(text, "predictor_feedback_in_interval_total")).toBe(2);
  });

  it("exports KS per feature, and prediction drift only for an artifact with a prediction reference", async () => {
    predictor = testPredictor();
    await post("/v1/predict/batch", { rows: Array(20).fill({ features: [0.05, 0, 0.02] }) });
    let text = await scrape(predictor);
    // Every ret_1 above the top decile: 0.9 of the reference lies below the last edge, none of the window.
    expect(metricValue(text, "predictor_feature_ks", { feature: "ret_1" })).toBeCloseTo(0.9, 12);
    expect(metricValue(text, "predictor_prediction_drift")).toBeUndefined();
    await predictor.app.close();

    const predictionReference = {
      edges: [-4, -3, -2, -1, 0, 1, 2, 3, 4].map((e) => e / 1000),
      proportions: Array(10).fill(0.1),
    };
    predictor = testPredictor({}, { load: false });
    predictor.state.load(testArtifactFile({ predictionReference }));
    await post("/v1/predict/batch", { rows: Array(20).fill({ features: [0.05, 0, 0.02] }) });
    text = await scrape(predictor);
    // y = 0.001 + 0.002 * 5 = 0.011: every prediction above the top decile of the holdout's.
    expect(metricValue(text, "predictor_prediction_drift", { statistic: "ks" })).toBeCloseTo(0.9, 12);
    expect(metricValue(text, "predictor_prediction_drift", { statistic: "psi" })).toBeGreaterThan(0.25);
  });
});

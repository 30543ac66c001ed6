import { afterEach, describe, expect, it } from "vitest";
import { predictRow } from "../artifact.ts";
import type { Bar } from "../bars.ts";
import { generateBars } from "../data/synthetic.ts";
import { computeFeatures, featureRowFromBars } from "../features.ts";
import type { TestPredictor } from "./test-support.ts";
import { TEST_FEATURES, testArtifact, testBars, testPredictor } from "./test-support.ts";

/** The test model written out: 0.001 + 0.002 z(ret_1) - 0.001 z(ret_5) + 0.0005 z(hl_range). */
function expected([ret1 = Number.NaN, ret5 = Number.NaN, hl = Number.NaN]: number[]): number {
  return 0.001 + (0.002 * ret1) / 0.01 - (0.001 * ret5) / 0.02 + (0.0005 * (hl - 0.02)) / 0.01;
}

/** `bars` with bar `index` changed: a window that is sound but for that bar. */
function withBar(bars: Bar[], index: number, change: Partial<Bar>): Bar[] {
  return bars.map((bar, i) => (i === index ? { ...bar, ...change } : bar));
}

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

function post(url: string, body: unknown) {
  return predictor.inject({ method: "POST", url, payload: body as object });
}

function postText(url: string, contentType: string, payload: string) {
  return predictor.inject({ method: "POST", url, headers: { "content-type": contentType }, payload });
}

describe("POST /v1/predict", () => {
  it("predicts from features by name, with the interval, model identity and an id", async () => {
    predictor = testPredictor({ MODEL_TRACK: "canary" });
    const res = await post("/v1/predict", { features: { ret_1: 0.01, ret_5: -0.02, hl_range: 0.03 } });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    const y = expected([0.01, -0.02, 0.03]);
    expect(body.prediction).toBeCloseTo(y, 15);
    expect(body.interval.lower).toBeCloseTo(y - 0.01, 15);
    expect(body.interval.upper).toBeCloseTo(y + 0.012, 15);
    expect(body.interval.level).toBe(0.9);
    expect(body).toMatchObject({ model: "demo", modelVersion: "v1", track: "canary" });
    expect(body.predictionId).toMatch(/\S{8,}/);
  });

  it("predicts the same from features in artifact order", async () => {
    predictor = testPredictor();
    const byName = await post("/v1/predict", { features: { hl_range: 0.03, ret_5: -0.02, ret_1: 0.01 } });
    const ordered = await post("/v1/predict", { features: [0.01, -0.02, 0.03] });
    expect(ordered.json().prediction).toBe(byName.json().prediction);
  });

  it("computes features from raw bars with the training code", async () => {
    predictor = testPredictor();
    const bars = testBars(30);
    const res = await post("/v1/predict", { bars });
    expect(res.statusCode).toBe(200);
    expect(res.json().prediction).toBeCloseTo(expected(featureRowFromBars(bars, TEST_FEATURES)), 15);
  });

  it("gives every prediction its own id", async () => {
    predictor = testPredictor();
    const ids = new Set<string>();
    for (let i = 0; i < 20; i++)
      ids.add((await post("/v1/predict", { features: [0, 0, 0.02] })).json().predictionId);
    expect(ids.size).toBe(20);
  });

  it("reports the server time in a server-timing header", async () => {
    predictor = testPredictor();
    const res = await post("/v1/predict", { features: [0, 0, 0.02] });
    expect(res.headers["server-timing"]).toMatch(/^app;dur=\d+\.\d{3}$/);
  });
});

describe("POST /v1/predict/batch", () => {
  it("answers each row in order, whatever its form", async () => {
    predictor = testPredictor();
    const bars = testBars(10);
    const rows = [
      { features: [0.01, 0.02, 0.01] },
      { features: { ret_1: -0.01, ret_5: 0.005, hl_range: 0.04 } },
      { bars },
    ];
    const res = await post("/v1/predict/batch", { rows });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({ model: "demo", modelVersion: "v1", track: "stable" });
    const predictions = body.results.map((r: { prediction: number }) => r.prediction);
    expect(predictions[0]).toBeCloseTo(expected([0.01, 0.02, 0.01]), 15);
    expect(predictions[1]).toBeCloseTo(expected([-0.01, 0.005, 0.04]), 15);
    expect(predictions[2]).toBeCloseTo(expected(featureRowFromBars(bars, TEST_FEATURES)), 15);
    expect(new Set(body.results.map((r: { predictionId: string }) => r.predictionId)).size).toBe(3);
    expect(body.results[0].interval.upper).toBeCloseTo(predictions[0] + 0.012, 15);
  });

  it("names the row, bar and column of a bar that breaks a rule of the training data", async () => {
    predictor = testPredictor();
    const rows = [{ features: [0, 0, 0.02] }, { bars: withBar(testBars(8), 3, { volume: -1 }) }];
    const res = await post("/v1/predict/batch", { rows });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      field: "rows[1].bars[3].volume",
      error: "rows[1].bars[3].volume must be >= 0, got -1",
    });
  });

  it("predicts from bar windows exactly what the model gives on the training features of those bars", async () => {
    predictor = testPredictor();
    const cols = generateBars({ seed: 7, bars: 300 });
    const { columns, firstValidRow } = computeFeatures(cols, TEST_FEATURES);
    const window = 6;
    const ts = [firstValidRow, 50, 123, 250, 299];
    const rows = ts.map((t) => ({
      bars: Array.from({ length: window }, (_, k): Bar => {
        const i = t - window + 1 + k;
        const at = (c: Float64Array) => c[i] as number;
        return {
          ts: at(cols.ts),
          open: at(cols.open),
          high: at(cols.high),
          low: at(cols.low),
          close: at(cols.close),
          volume: at(cols.volume),
        };
      }),
    }));
    const res = await post("/v1/predict/batch", { rows });
    expect(res.statusCode).toBe(200);
    const served = res.json().results.map((r: { prediction: number }) => r.prediction);
    const trained = ts.map((t) =>
      predictRow(
        testArtifact(),
        columns.map((c) => c[t] as number),
      ),
    );
    expect(served).toEqual(trained);
  });

  it("refuses more rows than BATCH_LIMIT, naming rows", async () => {
    predictor = testPredictor({ BATCH_LIMIT: "5" });
    const res = await post("/v1/predict/batch", { rows: Array(6).fill({ features: [0, 0, 0] }) });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({
      error: "rows has 6 rows; at most 5 are taken (BATCH_LIMIT)",
      reason: "invalid_body",
      field: "rows",
    });
  });

  it("fails the whole batch on one bad row, naming it, and records none", async () => {
    predictor = testPredictor();
    const rows = [
      { features: [0, 0, 0] },
      { features: [0, 0, 0] },
      { features: { ret_1: 0, ret_5: "0.1", hl_range: 0 } },
    ];
    const res = await post("/v1/predict/batch", { rows });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ field: "rows[2].features.ret_5", reason: "invalid_body" });
    expect(res.json().error).toBe('rows[2].features.ret_5 must be a finite number, got "0.1"');
    const metrics = (await predictor.inject({ url: "/metrics" })).body;
    expect(metrics).toMatch(/^predictor_predictions_total\{[^}]*\} 0$/m);
  });

  it.each([
    [{}, "rows", "rows is required"],
    [{ rows: [] }, "rows", "rows must have at least 1 row"],
    [{ rows: {} }, "rows", "rows must be an array of rows, got an object"],
    [
      { rows: [{ features: [0, 0, 0] }], extra: 1 },
      "extra",
      "extra is not a known field (a batch has only rows)",
    ],
    [[{ features: [0, 0, 0] }], "body", 'body must be an object {"rows": [...]}, got an array of 1'],
  ])("needs rows: %j", async (body, field, error) => {
    predictor = testPredictor();
    const res = await post("/v1/predict/batch", body);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ field, error, reason: "invalid_body" });
  });
});

describe("bad input gets a 4xx naming the field", () => {
  const cases: [string, unknown, number, string, RegExp][] = [
    [
      "a missing feature",
      { features: { ret_1: 0, ret_5: 0 } },
      400,
      "features.hl_range",
      /is required: the model takes ret_1, ret_5, hl_range/,
    ],
    [
      "an unknown feature",
      { features: { ret_1: 0, ret_5: 0, hl_range: 0, rsi_14: 1 } },
      400,
      "features.rsi_14",
      /is not a feature of this model/,
    ],
    [
      "too few values",
      { features: [0, 0] },
      400,
      "features",
      /has 2 values; the model takes 3: ret_1, ret_5, hl_range/,
    ],
    ["null", { features: [0, null, 0] }, 400, "features[1]", /must be a finite number \(ret_5\), got null/],
    ['"NaN"', { features: { ret_1: "NaN", ret_5: 0, hl_range: 0 } }, 400, "features.ret_1", /got "NaN"/],
    [
      "a nested object",
      { features: { ret_1: { v: 1 }, ret_5: 0, hl_range: 0 } },
      400,
      "features.ret_1",
      /got an object/,
    ],
    [
      "features and bars",
      { features: [0, 0, 0], bars: [] },
      400,
      "body",
      /exactly one of "features" or "bars"/,
    ],
    ["neither", {}, 400, "body", /exactly one of "features" or "bars"/],
    ["an unknown field", { features: [0, 0, 0], id: 7 }, 400, "id", /is not a known field/],
    [
      "features as a string",
      { features: "1,2,3" },
      400,
      "features",
      /must be an object by name or an array in order/,
    ],
    ["too few bars", { bars: testBars(3) }, 400, "bars", /need a window of at least 6 bars.*got 3/],
    [
      "bars out of order",
      { bars: [...testBars(8)].reverse() },
      400,
      "bars[1].ts",
      /must be after bars\[0\].ts/,
    ],
    [
      "a bar without volume",
      { bars: testBars(8).map(({ volume: _, ...b }) => b) },
      400,
      "bars[0].volume",
      /got nothing/,
    ],
    [
      "a bar with an extra field",
      { bars: testBars(8).map((b) => ({ ...b, symbol: "X" })) },
      400,
      "bars[0].symbol",
      /not a bar field/,
    ],
    [
      "a bar whose high is below its low",
      { bars: withBar(testBars(8), 5, { high: 90, low: 95 }) },
      400,
      "bars[5].high",
      /must be >= low \(90 < 95\)/,
    ],
    [
      "a bar whose high is below its close",
      { bars: withBar(testBars(8), 2, { high: 50, low: 40 }) },
      400,
      "bars[2].high",
      /must be >= open and close/,
    ],
    [
      "a bar whose low is above its open",
      { bars: withBar(testBars(8), 0, { low: 1000, high: 1001 }) },
      400,
      "bars[0].low",
      /must be <= open and close/,
    ],
    [
      "a negative volume",
      { bars: withBar(testBars(8), 7, { volume: -3 }) },
      400,
      "bars[7].volume",
      /must be >= 0, got -3/,
    ],
    [
      "a zero close",
      { bars: withBar(testBars(8), 4, { close: 0 }) },
      400,
      "bars[4].close",
      /must be > 0, got 0/,
    ],
    [
      "a negative price",
      { bars: withBar(testBars(8), 1, { open: -1, low: -2 }) },
      400,
      "bars[1].open",
      /must be > 0, got -1/,
    ],
    ["an array body", [1, 2], 400, "body", /must be an object/],
    [
      "values so large the prediction overflows",
      { features: [1e308, -1e308, 1e308] },
      400,
      "body",
      /non-finite prediction/,
    ],
  ];
  it.each(cases)("%s", async (_name, body, status, field, message) => {
    predictor = testPredictor();
    const res = await post("/v1/predict", body);
    expect(res.statusCode).toBe(status);
    expect(res.json().field).toBe(field);
    expect(res.json().error).toMatch(message);
    expect(res.json().error.startsWith(field)).toBe(true);
  });

  it("a field name outside ASCII, named back as sent (UTF-8)", async () => {
    predictor = testPredictor();
    const body = '{"features": {"ret_1": 0, "ret_5": 0, "hl_range": 0.02, "rendite_ü€": 1}}';
    const res = await postText("/v1/predict", "application/json; charset=utf-8", body);
    expect(res.statusCode).toBe(400);
    expect(res.json().field).toBe('features["rendite_ü€"]');
  });

  it("Infinity written as 1e400", async () => {
    predictor = testPredictor();
    const res = await postText("/v1/predict", "application/json", '{"features": [0, 1e400, 0]}');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({
      field: "features[1]",
      error: "features[1] must be a finite number (ret_5), got Infinity",
    });
  });

  it("malformed JSON", async () => {
    predictor = testPredictor();
    const res = await postText("/v1/predict", "application/json", '{"features": [0, 0,');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: "body is not valid JSON", reason: "invalid_json", field: "body" });
  });

  it("a body over BODY_LIMIT_BYTES", async () => {
    predictor = testPredictor({ BODY_LIMIT_BYTES: "2048" });
    const res = await post("/v1/predict/batch", {
      rows: Array(200).fill({ features: [0.123, 0.456, 0.789] }),
    });
    expect(res.statusCode).toBe(413);
    expect(res.json()).toMatchObject({
      reason: "body_too_large",
      field: "body",
      error: "body is larger than 2048 bytes (BODY_LIMIT_BYTES)",
    });
  });

  it.each(["text/plain", "application/x-www-form-urlencoded", "application/xml"])(
    "content-type %s",
    async (type) => {
      predictor = testPredictor();
      const res = await predictor.inject({
        method: "POST",
        url: "/v1/predict",
        headers: { "content-type": type },
        payload: "features=1",
      });
      expect(res.statusCode).toBe(415);
      expect(res.json()).toEqual({
        error: `content-type must be application/json, got "${type}"`,
        reason: "unsupported_media_type",
        field: "content-type",
      });
    },
  );

  it("a compressed body", async () => {
    predictor = testPredictor();
    const res = await predictor.inject({
      method: "POST",
      url: "/v1/predict",
      headers: { "content-type": "application/json", "content-encoding": "gzip" },
      payload: '{"features": [0, 0, 0]}',
    });
    expect(res.statusCode).toBe(415);
    expect(res.json()).toEqual({
      error: 'content-encoding "gzip" is not supported: send the body uncompressed',
      reason: "unsupported_media_type",
      field: "content-encoding",
    });
  });

  it("an unknown route", async () => {
    predictor = testPredictor();
    const res = await predictor.inject({ method: "GET", url: "/v1/predict" });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ reason: "not_found", error: "no route GET /v1/predict" });
  });
});

describe("readiness", () => {
  it("is live but not ready, and serves no predictions, until the model is loaded", async () => {
    predictor = testPredictor({}, { load: false });
    expect((await predictor.inject({ url: "/healthz" })).statusCode).toBe(200);
    expect((await predictor.inject({ url: "/readyz" })).statusCode).toBe(503);
    const res = await post("/v1/predict", { features: [0, 0, 0] });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toBe("not_ready");
  });

  it("turns ready on load and unready on draining", async () => {
    predictor = testPredictor();
    expect((await predictor.inject({ url: "/readyz" })).statusCode).toBe(200);
    predictor.state.startDraining();
    const res = await predictor.inject({ url: "/readyz" });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toBe("shutting_down");
    expect((await post("/v1/predict", { features: [0, 0, 0] })).statusCode).toBe(200);
  });

  it("describes the model: feature order and the bars a window needs", async () => {
    predictor = testPredictor();
    const body = (await predictor.inject({ url: "/v1/model" })).json();
    expect(body).toMatchObject({ features: TEST_FEATURES, lookbackBars: 6, modelVersion: "v1" });
    expect(body.artifactSha256).toMatch(/^[0-9a-f]{64}$/);
  });
});

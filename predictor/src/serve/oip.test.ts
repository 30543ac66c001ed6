import { afterEach, describe, expect, it } from "vitest";
import type { Bar } from "../bars.ts";
import type { TestPredictor } from "./test-support.ts";
import {
  metricValue,
  scrape,
  TEST_FEATURES,
  testArtifact,
  testArtifactFile,
  testBars,
  testPredictor,
} from "./test-support.ts";

/* The Open Inference Protocol routes, through the predictor's whole request listener. */

const started: TestPredictor[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.app.close()));
});

function predictor(env: Record<string, string> = {}, load = true): TestPredictor {
  const p = testPredictor(env, { load });
  started.push(p);
  return p;
}

const INFER = "/v2/models/demo/infer";

function infer(p: TestPredictor, body: unknown, url = INFER) {
  return p.inject({ method: "POST", url, payload: body as object });
}

/** A [N, 3] tensor of the test model's features in artifact order. */
function matrix(rows: number[][], name = "input-0") {
  return { name, shape: [rows.length, 3], datatype: "FP64", data: rows.flat() };
}

/** The same rows through /v1, for comparison. */
async function v1Predictions(p: TestPredictor, rows: object[]): Promise<number[]> {
  const res = await p.inject({ method: "POST", url: "/v1/predict/batch", payload: { rows } });
  expect(res.statusCode).toBe(200);
  return res.json().results.map((r: { prediction: number }) => r.prediction);
}

function output(body: { outputs: { name: string; data: number[] }[] }, name: string): number[] {
  const tensor = body.outputs.find((o) => o.name === name);
  if (!tensor) throw new Error(`no output ${name} in ${JSON.stringify(body)}`);
  return tensor.data;
}

const ROWS = [
  [0.01, -0.02, 0.03],
  [-0.004, 0.011, 0.018],
];

describe("OIP health, readiness and metadata", () => {
  it("is live at once, and ready only once the model is loaded", async () => {
    const p = predictor({}, false);
    expect((await p.inject({ url: "/v2/health/live" })).json()).toEqual({ live: true });
    const unready = await p.inject({ url: "/v2/health/ready" });
    expect(unready.statusCode).toBe(503);
    expect(unready.json().error).toMatch(/model not loaded/);
    expect((await p.inject({ url: "/v2/models/demo/ready" })).statusCode).toBe(503);
    expect((await p.inject({ url: "/v2/models/demo" })).statusCode).toBe(503);
    p.state.load(testArtifactFile());
    expect((await p.inject({ url: "/v2/health/ready" })).json()).toEqual({ ready: true });
    for (const url of ["/v2/models/demo/ready", "/v2/models/demo/versions/v1/ready"]) {
      const res = await p.inject({ url });
      expect(res.statusCode).toBe(200);
      expect(res.json()).toEqual({ name: "demo", ready: true });
    }
    p.state.startDraining();
    expect((await p.inject({ url: "/v2/health/ready" })).statusCode).toBe(503);
  });

  it("describes the model: a tensor per feature in artifact order, the three outputs, its version", async () => {
    const p = predictor({ MODEL_TRACK: "canary" });
    for (const url of ["/v2/models/demo", "/v2/models/demo/versions/v1"]) {
      const res = await p.inject({ url });
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(body).toMatchObject({ name: "demo", versions: ["v1"], platform: "tradingmodel-linear" });
      expect(body.inputs).toEqual(TEST_FEATURES.map((name) => ({ name, datatype: "FP64", shape: [-1] })));
      expect(body.outputs.map((o: { name: string }) => o.name)).toEqual(["prediction", "lower", "upper"]);
      expect(body.parameters).toMatchObject({
        track: "canary",
        feature_order: TEST_FEATURES.join(","),
        lookback_bars: 6,
        interval_level: 0.9,
      });
    }
    const server = (await p.inject({ url: "/v2" })).json();
    expect(server).toMatchObject({ name: "tradingmodel-predictor", extensions: [] });
    expect(server.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("answers 404 with an error for a model name or version this predictor does not serve", async () => {
    const p = predictor();
    for (const url of [
      "/v2/models/other",
      "/v2/models/other/ready",
      "/v2/models/demo/versions/v9",
      "/v2/models/demo/versions/v9/ready",
    ]) {
      const res = await p.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error, url).toMatch(
        /is not served here: this predictor serves model "demo" version "v1"/,
      );
    }
    for (const url of ["/v2/models/other/infer", "/v2/models/demo/versions/v2/infer"]) {
      const res = await infer(p, { inputs: [matrix(ROWS)] }, url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json().error).toMatch(/not served here/);
    }
    const text = await scrape(p);
    expect(metricValue(text, "predictor_http_errors_total", { route: "/v2/models/:name/infer" })).toBe(1);
    expect(metricValue(text, "predictor_predictions_total")).toBe(0);
  });
});

describe("POST /v2/models/{name}/infer", () => {
  it("predicts one [N, F] tensor as /v1 does, with the interval, the model and an id per row", async () => {
    const p = predictor({ MODEL_TRACK: "canary" });
    const res = await infer(p, { inputs: [matrix(ROWS)] });
    expect(res.statusCode).toBe(200);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.headers["server-timing"]).toMatch(/^app;dur=/);
    const body = res.json();
    const expected = await v1Predictions(
      p,
      ROWS.map((features) => ({ features })),
    );
    expect(body).toMatchObject({ model_name: "demo", model_version: "v1" });
    expect(body).not.toHaveProperty("id");
    expect(body.outputs.map((o: object) => ({ ...o, data: undefined }))).toEqual(
      ["prediction", "lower", "upper"].map((name) => ({
        name,
        datatype: "FP64",
        shape: [2],
        data: undefined,
      })),
    );
    expect(output(body, "prediction")).toEqual(expected);
    output(body, "lower").forEach((lower, i) => {
      expect(lower).toBeCloseTo((expected[i] as number) - 0.01, 15);
    });
    output(body, "upper").forEach((upper, i) => {
      expect(upper).toBeCloseTo((expected[i] as number) + 0.012, 15);
    });
    expect(body.parameters).toMatchObject({ interval_level: 0.9, track: "canary" });
    const ids = body.parameters.prediction_ids.split(",");
    expect(ids).toHaveLength(2);
    expect(new Set(ids).size).toBe(2);
  });

  it("reads the spec's example request shape: id echoed, outputs selected, nested data as flat", async () => {
    // The protocol's documented example (an "id", named inputs with shape and datatype, one output
    // asked for), with this model's features; its "Tensor Data" section: a [2, 3] tensor may be sent
    // flat, row-major, or nested as its shape.
    const p = predictor();
    const flat = await infer(p, {
      id: "42",
      inputs: [{ name: "input0", shape: [2, 3], datatype: "FP64", data: ROWS.flat() }],
      outputs: [{ name: "prediction" }],
    });
    const nested = await infer(p, {
      id: "42",
      inputs: [{ name: "input0", shape: [2, 3], datatype: "FP32", data: ROWS }],
      outputs: [{ name: "prediction" }],
    });
    for (const res of [flat, nested]) {
      expect(res.statusCode).toBe(200);
      const body = res.json();
      expect(Object.keys(body).sort()).toEqual([
        "id",
        "model_name",
        "model_version",
        "outputs",
        "parameters",
      ]);
      expect(body.id).toBe("42");
      expect(body.outputs).toHaveLength(1);
      expect(body.outputs[0]).toMatchObject({ name: "prediction", shape: [2], datatype: "FP64" });
    }
    expect(nested.json().outputs[0].data).toEqual(flat.json().outputs[0].data);
  });

  it("returns the outputs asked for, in the order asked", async () => {
    const p = predictor();
    const res = await infer(p, {
      inputs: [matrix(ROWS)],
      outputs: [{ name: "upper", parameters: { binary_data: false } }, { name: "lower" }],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().outputs.map((o: { name: string }) => o.name)).toEqual(["upper", "lower"]);
  });

  it("answers one row with the numbers /v1 gives it and a batch of two gives its first row, outputs as asked", async () => {
    const p = predictor();
    const asked = [{ name: "upper" }, { name: "prediction" }, { name: "lower" }];
    const one = await infer(p, { inputs: [matrix([ROWS[0] as number[]])], outputs: asked });
    const two = await infer(p, { inputs: [matrix(ROWS)], outputs: asked });
    const v1 = await p.inject({ method: "POST", url: "/v1/predict", payload: { features: ROWS[0] } });
    expect([one.statusCode, two.statusCode, v1.statusCode]).toEqual([200, 200, 200]);
    const single = one.json();
    expect(single.outputs.map((o: { name: string; shape: number[] }) => [o.name, o.shape])).toEqual([
      ["upper", [1]],
      ["prediction", [1]],
      ["lower", [1]],
    ]);
    for (const name of ["prediction", "lower", "upper"]) {
      expect(output(single, name)).toEqual([output(two.json(), name)[0]]);
    }
    const { prediction, interval } = v1.json();
    expect([output(single, "prediction")[0], output(single, "lower")[0], output(single, "upper")[0]]).toEqual(
      [prediction, interval.lower, interval.upper],
    );
  });

  it("predicts the same from one tensor per feature, of shape [N] or [N, 1], in any order", async () => {
    const p = predictor();
    const fromMatrix = output((await infer(p, { inputs: [matrix(ROWS)] })).json(), "prediction");
    const column = (j: number) => ROWS.map((r) => r[j] as number);
    const byFeature = await infer(p, {
      inputs: [
        { name: "hl_range", shape: [2], datatype: "FP64", data: column(2) },
        {
          name: "ret_1",
          shape: [2, 1],
          datatype: "FP32",
          data: column(0),
          parameters: { content_type: "np" },
        },
        { name: "ret_5", shape: [2, 1], datatype: "FP64", data: column(1).map((x) => [x]) },
      ],
      parameters: { content_type: "pd" },
    });
    expect(byFeature.statusCode).toBe(200);
    expect(output(byFeature.json(), "prediction")).toEqual(fromMatrix);
  });

  it("computes features from bar tensors [N, B] with the training code, as /v1 does from bars", async () => {
    const p = predictor();
    const windows = [testBars(8), testBars(12).slice(4)];
    const column = (key: keyof Bar) => windows.map((w) => w.map((bar) => bar[key]));
    const res = await infer(p, {
      inputs: (["ts", "open", "high", "low", "close", "volume"] as const).map((key) => ({
        name: key,
        shape: [2, 8],
        datatype: key === "ts" ? "INT64" : "FP64",
        data: column(key),
      })),
    });
    expect(res.statusCode).toBe(200);
    expect(output(res.json(), "prediction")).toEqual(
      await v1Predictions(
        p,
        windows.map((bars) => ({ bars })),
      ),
    );
    // [B] is one window.
    const one = await infer(p, {
      inputs: (["ts", "open", "high", "low", "close", "volume"] as const).map((key) => ({
        name: key,
        shape: [8],
        datatype: "FP64",
        data: (windows[0] as Bar[]).map((bar) => bar[key]),
      })),
    });
    expect(output(one.json(), "prediction")).toEqual(output(res.json(), "prediction").slice(0, 1));
  });

  it("takes the prediction ids of its parameters as feedback, and records rows as /v1 does", async () => {
    const p = predictor();
    const body = (await infer(p, { inputs: [matrix(ROWS)] })).json();
    const ids: string[] = body.parameters.prediction_ids.split(",");
    const feedback = await p.inject({
      method: "POST",
      url: "/v1/feedback",
      payload: { items: ids.map((predictionId) => ({ predictionId, realized: 0.001 })) },
    });
    expect(feedback.json()).toMatchObject({ scored: 2 });
    const text = await scrape(p);
    expect(metricValue(text, "predictor_predictions_total")).toBe(2);
    expect(metricValue(text, "predictor_psi_window_rows")).toBe(2);
    expect(
      metricValue(text, "predictor_http_requests_total", { route: "/v2/models/:name/infer", status: "200" }),
    ).toBe(1);
  });

  it("serves the version path and a body without content-type (Triton's client sends none)", async () => {
    const p = predictor();
    const res = await p.inject({
      method: "POST",
      url: "/v2/models/demo/versions/v1/infer",
      payload: JSON.stringify({ inputs: [matrix(ROWS)] }),
    });
    expect(res.statusCode).toBe(200);
    const text = await scrape(p);
    expect(
      metricValue(text, "predictor_http_requests_total", {
        route: "/v2/models/:name/versions/:version/infer",
        status: "200",
      }),
    ).toBe(1);
  });
});

describe("POST /v2/models/{name}/infer: bad input", () => {
  const cases: [string, unknown, RegExp][] = [
    ["no inputs", {}, /^inputs is required/],
    [
      "an unknown field",
      { inputs: [matrix(ROWS)], input: 1 },
      /^input is not a field of an inference request/,
    ],
    ["a number id", { id: 42, inputs: [matrix(ROWS)] }, /^id must be a string, got 42/],
    [
      "the spec's example tensors: UINT32 is not a feature datatype",
      {
        id: "42",
        inputs: [{ name: "input0", shape: [2, 2], datatype: "UINT32", data: [1, 2, 3, 4] }],
        outputs: [{ name: "output0" }],
      },
      /^inputs\[0\]\.datatype of tensor "input0" must be FP64 or FP32, got "UINT32"/,
    ],
    [
      "a non-number in flat data",
      { inputs: [{ ...matrix(ROWS), data: [0.01, -0.02, 0.03, -0.004, "x", 0.018] }] },
      /^inputs\[0\]\.data\[4\] must be a finite number \(tensor "input-0", row 1, feature ret_5\), got "x"/,
    ],
    [
      "a null in nested data",
      { inputs: [{ ...matrix(ROWS), data: [ROWS[0], [-0.004, 0.011, null]] }] },
      /^inputs\[0\]\.data\[1\]\[2\] must be a finite number \(tensor "input-0", row 1, feature hl_range\), got null/,
    ],
    [
      "nested data that does not follow the shape",
      { inputs: [{ ...matrix(ROWS), data: [ROWS[0], [1, 2]] }] },
      /^inputs\[0\]\.data\[1\] must be an array of 3 \(shape \[2, 3\]\), got an array of 2/,
    ],
    [
      "flat data of the wrong size",
      { inputs: [{ ...matrix(ROWS), data: [1, 2, 3] }] },
      /^inputs\[0\]\.data of inputs\[0\] \("input-0"\) has 3 values; shape \[2, 3\] takes 6/,
    ],
    [
      "a matrix with the wrong number of features",
      { inputs: [{ name: "x", shape: [1, 2], datatype: "FP64", data: [1, 2] }] },
      /^inputs\[0\]\.shape of tensor "x" must be \[N, 3\] \(rows x the features ret_1, ret_5, hl_range\), got \[1, 2\]/,
    ],
    [
      "a shape of three dimensions",
      { inputs: [{ name: "x", shape: [1, 1, 3], datatype: "FP64", data: [[[0, 0, 0.02]]] }] },
      /^inputs\[0\]\.shape of inputs\[0\] \("x"\) must have 1 or 2 dimensions/,
    ],
    [
      "no rows",
      { inputs: [{ name: "x", shape: [0, 3], datatype: "FP64", data: [] }] },
      /^inputs\[0\]\.shape of tensor "x" has 0 rows/,
    ],
    [
      "a feature missing",
      {
        inputs: [
          { name: "ret_1", shape: [1], datatype: "FP64", data: [0] },
          { name: "ret_5", shape: [1], datatype: "FP64", data: [0] },
        ],
      },
      /^inputs has no tensor for feature hl_range: the model takes ret_1, ret_5, hl_range/,
    ],
    [
      "a feature twice",
      {
        inputs: ["ret_1", "ret_5", "hl_range", "ret_5"].map((name) => ({
          name,
          shape: [1],
          datatype: "FP64",
          data: [0],
        })),
      },
      /^inputs\[3\] \("ret_5"\) is given twice \(also inputs\[1\]\)/,
    ],
    [
      "feature tensors of different lengths",
      {
        inputs: [
          { name: "ret_1", shape: [2], datatype: "FP64", data: [0, 0] },
          { name: "ret_5", shape: [1], datatype: "FP64", data: [0] },
          { name: "hl_range", shape: [2], datatype: "FP64", data: [0, 0] },
        ],
      },
      /^inputs\[1\]\.shape of tensor "ret_5" has 1 rows, tensor "ret_1" 2/,
    ],
    [
      "an unknown tensor beside the features",
      {
        inputs: [
          { name: "ret_1", shape: [1], datatype: "FP64", data: [0] },
          { name: "rsi_14", shape: [1], datatype: "FP64", data: [0] },
        ],
      },
      /^inputs\[1\] \("rsi_14"\) is not a feature of this model \(ret_1, ret_5, hl_range\) nor a bar field/,
    ],
    [
      "bars mixed with features",
      {
        inputs: [
          { name: "ret_1", shape: [1], datatype: "FP64", data: [0] },
          { name: "close", shape: [1], datatype: "FP64", data: [0] },
        ],
      },
      /^inputs\[1\] \("close"\) is a bar field while the other tensors are features/,
    ],
    [
      "an output that does not exist",
      { inputs: [matrix(ROWS)], outputs: [{ name: "prediction" }, { name: "output0" }] },
      /^outputs\[1\]\.name must be one of prediction, lower, upper, got "output0"/,
    ],
    [
      "binary outputs (Triton's default without outputs)",
      { inputs: [matrix(ROWS)], parameters: { binary_data_output: true } },
      /^parameters\.binary_data_output asks for binary tensor data/,
    ],
    [
      "a parameter nothing reads",
      { inputs: [matrix(ROWS)], parameters: { priority: 1 } },
      /^parameters\.priority is not a parameter this predictor takes/,
    ],
    [
      "a string content type",
      { inputs: [{ ...matrix(ROWS), parameters: { content_type: "str" } }] },
      /^inputs\[0\]\.parameters\.content_type must be "np" or "pd"/,
    ],
  ];

  it.each(cases)("400 for %s, naming the tensor and index", async (_what, body, message) => {
    const p = predictor();
    const res = await infer(p, body);
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(message);
    const text = await scrape(p);
    expect(metricValue(text, "predictor_predictions_total")).toBe(0);
    expect(
      metricValue(text, "predictor_http_errors_total", {
        route: "/v2/models/:name/infer",
        reason: "invalid_body",
      }),
    ).toBe(1);
  });

  it("names the bar at fault in a bar tensor by its tensor and index", async () => {
    const p = predictor();
    const bars = testBars(8);
    const res = await infer(p, {
      inputs: (["ts", "open", "high", "low", "close", "volume"] as const).map((key) => ({
        name: key,
        shape: [1, 8],
        datatype: "FP64",
        // The fourth bar's high below its low.
        data: [bars.map((bar, b) => (key === "high" && b === 3 ? bar.low - 1 : bar[key]))],
      })),
    });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/^inputs\[2\]\.data\[0\]\[3\] /);
    const short = await infer(p, {
      inputs: (["ts", "open", "high", "low", "close", "volume"] as const).map((key) => ({
        name: key,
        shape: [2],
        datatype: "FP64",
        data: bars.slice(0, 2).map((bar) => bar[key]),
      })),
    });
    expect(short.json().error).toMatch(
      /^inputs \(the bars of row 0\) features need a window of at least 6 bars/,
    );
  });

  it("holds a request to BATCH_LIMIT rows", async () => {
    const p = predictor({ BATCH_LIMIT: "2" });
    const res = await infer(p, { inputs: [matrix([...ROWS, [0, 0, 0.02]])] });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toMatch(/has 3 rows; at most 2 are taken \(BATCH_LIMIT\)/);
  });

  it("refuses binary tensor bodies, other media types, and serves nothing before the model loads", async () => {
    const p = predictor();
    const binary = await p.inject({
      method: "POST",
      url: INFER,
      headers: { "inference-header-content-length": "40" },
      payload: JSON.stringify({ inputs: [matrix(ROWS)] }),
    });
    expect(binary.statusCode).toBe(400);
    expect(binary.json().error).toMatch(/^inference-header-content-length asks for binary tensor data/);
    const text = await p.inject({
      method: "POST",
      url: INFER,
      headers: { "content-type": "text/plain" },
      payload: "{}",
    });
    expect(text.statusCode).toBe(415);
    const unloaded = predictor({}, false);
    expect((await infer(unloaded, { inputs: [matrix(ROWS)] })).statusCode).toBe(503);
  });

  it("fails as chaos asks, as /v1 does", async () => {
    const p = predictor({ CHAOS_ERROR_FRACTION: "1" });
    const res = await infer(p, { inputs: [matrix(ROWS)] });
    expect(res.statusCode).toBe(503);
    expect(res.json().reason).toBe("chaos");
  });
});

describe("OIP shadow mirroring", () => {
  it("mirrors an inference request to the shadow's OIP route, all outputs asked, and compares", async () => {
    const shadow = predictor({ MODEL_TRACK: "shadow", MODEL_VERSION: "v2" }, false);
    const { coefficients } = testArtifact();
    shadow.state.load(testArtifactFile({ coefficients: { ...coefficients, intercept: -0.001 } }));
    const shadowUrl = await shadow.app.listen({ port: 0, host: "127.0.0.1" });
    const primary = predictor({ SHADOW_URL: shadowUrl });
    const res = await infer(primary, { inputs: [matrix(ROWS)], outputs: [{ name: "upper" }] });
    expect(res.statusCode).toBe(200);
    await primary.state.shadow?.idle();
    const text = await scrape(primary);
    expect(metricValue(text, "predictor_shadow_sent_total")).toBe(1);
    expect(metricValue(text, "predictor_shadow_compared_total")).toBe(2);
    expect(metricValue(text, "predictor_shadow_errors_total")).toBeUndefined();
    // The shadow's intercept is 0.002 lower: each difference is 0.002.
    expect(metricValue(text, "predictor_shadow_abs_diff_bucket", { le: "0.001" })).toBe(0);
    expect(metricValue(text, "predictor_shadow_abs_diff_bucket", { le: "0.0025" })).toBe(2);
    const shadowText = await scrape(shadow);
    expect(
      metricValue(shadowText, "predictor_http_requests_total", { route: "/v2/models/:name/infer" }),
    ).toBe(1);
  });
});

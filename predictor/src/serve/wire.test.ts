import { afterEach, describe, expect, it } from "vitest";
import type { TestPredictor } from "./test-support.ts";
import { metricValue, scrape, testPredictor } from "./test-support.ts";

/*
 * What reaches the predictor before any route's own rules: the URL as sent and the bytes before
 * the JSON. Both follow the error contract of every route, `{error, reason, field}`.
 */

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

const BOM = "\uFEFF";

function postRaw(url: string, payload: string | Buffer) {
  return predictor.inject({ method: "POST", url, headers: { "content-type": "application/json" }, payload });
}

describe("a path with invalid percent-encoding", () => {
  it.each([
    ["GET", "/v1/%zz"],
    ["POST", "/v1/predict%zz"],
    ["GET", "/v2/models/%zz"],
    ["POST", "/v2/models/demo/infer%E0%A4%A"],
  ])("%s %s answers 400 invalid_url naming the url", async (method, url) => {
    predictor = testPredictor();
    const res = await predictor.inject({
      method: method as "GET" | "POST",
      url,
      headers: { "content-type": "application/json" },
      payload: method === "POST" ? '{"features": [0, 0, 0.02]}' : undefined,
    });
    expect(res.statusCode).toBe(400);
    expect(res.headers["content-type"]).toMatch(/^application\/json/);
    expect(res.json()).toEqual({
      error: `url "${url}" is not a valid path: bad percent-encoding`,
      reason: "invalid_url",
      field: "url",
    });
  });

  it("is counted as an error like any other refusal, and the predictor serves on", async () => {
    predictor = testPredictor();
    await predictor.inject({ method: "GET", url: "/v1/%zz" });
    const metrics = await scrape(predictor);
    expect(metricValue(metrics, "predictor_http_errors_total", { reason: "invalid_url" })).toBe(1);
    const ok = await postRaw("/v1/predict", '{"features": [0, 0, 0.02]}');
    expect(ok.statusCode).toBe(200);
  });

  it("a path parameter over 100 characters answers 414 invalid_url", async () => {
    predictor = testPredictor();
    const res = await predictor.inject({ method: "GET", url: `/v2/models/${"m".repeat(101)}` });
    expect(res.statusCode).toBe(414);
    expect(res.json()).toEqual({
      error: `url "/v2/models/${"m".repeat(89)}..." has a path parameter over 100 characters`,
      reason: "invalid_url",
      field: "url",
    });
  });
});

describe("a UTF-8 byte order mark before the JSON is skipped on every route", () => {
  it.each([
    ["/v1/predict", '{"features": [0.01, 0, 0.02]}'],
    [
      "/v1/predict/batch",
      '{"rows": [{"features": [0.01, 0, 0.02]}, {"features": {"ret_1": 0, "ret_5": 0.01, "hl_range": 0.03}}]}',
    ],
    [
      "/v2/models/demo/infer",
      '{"inputs": [{"name": "input-0", "shape": [1, 3], "datatype": "FP64", "data": [0.01, 0, 0.02]}]}',
    ],
  ])("%s answers as without it", async (url, json) => {
    predictor = testPredictor();
    const plain = await postRaw(url, json);
    const withBom = await postRaw(url, Buffer.from(BOM + json, "utf8"));
    expect(plain.statusCode).toBe(200);
    expect(withBom.statusCode).toBe(200);
    // Everything but the ids each prediction gets (`predictionId`, OIP's `parameters.prediction_ids`).
    const withoutIds = (body: string) =>
      JSON.parse(body, (key, value) =>
        key === "predictionId" || key === "prediction_ids" ? undefined : value,
      );
    expect(withoutIds(withBom.body)).toEqual(withoutIds(plain.body));
  });

  it("/v1/feedback scores as without it", async () => {
    predictor = testPredictor();
    const [first, second] = (
      await postRaw(
        "/v1/predict/batch",
        '{"rows": [{"features": [0.01, 0, 0.02]}, {"features": [0.01, 0, 0.02]}]}',
      )
    ).json().results;
    const plain = await postRaw(
      "/v1/feedback",
      JSON.stringify({ predictionId: first.predictionId, realized: 0.01 }),
    );
    const withBom = await postRaw(
      "/v1/feedback",
      Buffer.from(BOM + JSON.stringify({ predictionId: second.predictionId, realized: 0.01 }), "utf8"),
    );
    expect(plain.json()).toMatchObject({ status: "scored", hit: true });
    expect(withBom.json()).toMatchObject({ status: "scored", hit: true });
  });

  it("a BOM alone is an empty body, and a BOM in the middle is not JSON", async () => {
    predictor = testPredictor();
    expect((await postRaw("/v1/predict", Buffer.from(BOM, "utf8"))).json()).toEqual({
      error: "body is empty; send a JSON object",
      reason: "invalid_json",
      field: "body",
    });
    expect((await postRaw("/v1/predict", `{"features": ${BOM}[0, 0, 0.02]}`)).json()).toEqual({
      error: "body is not valid JSON",
      reason: "invalid_json",
      field: "body",
    });
  });
});

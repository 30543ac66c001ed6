import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { TestPredictor } from "./test-support.ts";
import { TEST_FEATURES, testPredictor } from "./test-support.ts";

/*
 * Random bodies thrown at every POST route: whatever comes in, the answer is below 500 and, when
 * it is an error, a JSON body with a message and a reason; a 400 also names the field.
 */

const OIP_INFER = "/v2/models/demo/infer";
const ROUTES = ["/v1/predict", "/v1/predict/batch", "/v1/feedback", OIP_INFER];

let predictor: TestPredictor;
beforeAll(() => {
  predictor = testPredictor({ BATCH_LIMIT: "20", BODY_LIMIT_BYTES: "65536" });
});
afterAll(() => predictor.app.close());

async function expectHandled(
  url: string,
  payload: string,
  contentType = "application/json",
): Promise<number> {
  const res = await predictor.inject({
    method: "POST",
    url,
    headers: { "content-type": contentType },
    payload,
  });
  expect(res.statusCode, `${url} ${payload.slice(0, 300)} -> ${res.body}`).toBeLessThan(500);
  if (res.statusCode >= 400) {
    const body = res.json();
    expect(typeof body.error).toBe("string");
    expect(body.error.length).toBeGreaterThan(0);
    expect(typeof body.reason).toBe("string");
    if (res.statusCode === 400) expect(body.error.startsWith(body.field)).toBe(true);
  }
  return res.statusCode;
}

const route = fc.constantFrom(...ROUTES);
/** Numbers and the things that are not quite numbers. */
const value = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.constantFrom("NaN", "Infinity", "-Infinity", "1e400", "", "0", null, true, [], {}),
  fc.string(),
);
const featureName = fc.oneof(fc.constantFrom(...TEST_FEATURES), fc.string());
const namedFeatures = fc.dictionary(featureName, value, { maxKeys: 5 });
const orderedFeatures = fc.array(value, { maxLength: 5 });
const bar = fc.record(
  { ts: value, open: value, high: value, low: value, close: value, volume: value },
  { requiredKeys: [] },
);
const numericBar = fc.record({
  ts: fc.integer({ min: 0, max: 2 ** 40 }),
  open: fc.double({ min: -10, max: 200 }),
  high: fc.double({ min: -10, max: 200 }),
  low: fc.double({ min: -10, max: 200 }),
  close: fc.double({ min: -10, max: 200 }),
  volume: fc.double({ min: -10, max: 1e6 }),
});
const row = fc.oneof(
  fc.record({ features: fc.oneof(namedFeatures, orderedFeatures) }),
  fc.record({ bars: fc.array(fc.oneof(bar, numericBar), { maxLength: 12 }) }),
  fc.record({ features: orderedFeatures, bars: fc.array(bar, { maxLength: 2 }) }, { requiredKeys: [] }),
  fc.jsonValue({ maxDepth: 2 }),
);
/** Open Inference Protocol requests: tensors of every form, with names, shapes, datatypes and data near and far from valid. */
const tensorData = fc.oneof(
  fc.array(value, { maxLength: 12 }),
  fc.array(fc.array(value, { maxLength: 4 }), { maxLength: 4 }),
  value,
);
const tensor = fc.record(
  {
    name: fc.oneof(
      fc.constantFrom(...TEST_FEATURES, "ts", "open", "high", "low", "close", "volume", "input-0"),
      value,
    ),
    shape: fc.oneof(fc.array(fc.integer({ min: -2, max: 6 }), { maxLength: 3 }), value),
    datatype: fc.oneof(fc.constantFrom("FP64", "FP32", "INT64", "UINT32", "BYTES"), value),
    data: tensorData,
    parameters: fc.oneof(
      fc.record(
        { content_type: fc.oneof(fc.constantFrom("np", "pd", "str"), value), binary_data: value },
        { requiredKeys: [] },
      ),
      value,
    ),
  },
  { requiredKeys: ["name", "shape", "datatype", "data"] },
);
const inferenceRequest = fc.record(
  {
    id: fc.oneof(fc.string(), value),
    parameters: fc.oneof(
      fc.dictionary(fc.constantFrom("content_type", "binary_data_output", "priority"), value),
      value,
    ),
    inputs: fc.oneof(fc.array(tensor, { maxLength: 7 }), value),
    outputs: fc.oneof(
      fc.array(fc.record({ name: fc.oneof(fc.constantFrom("prediction", "lower", "upper"), value) }), {
        maxLength: 4,
      }),
      value,
    ),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  row,
  inferenceRequest,
  fc.record({ rows: fc.oneof(fc.array(row, { maxLength: 25 }), value) }, { requiredKeys: [] }),
  fc.record(
    {
      predictionId: fc.oneof(fc.string(), value),
      realized: value,
      items: fc.array(fc.record({ predictionId: fc.oneof(fc.string(), value), realized: value }), {
        maxLength: 25,
      }),
    },
    { requiredKeys: [] },
  ),
  fc.jsonValue(),
);

describe("random bodies never get a 5xx", () => {
  it("near-valid JSON bodies on every route", async () => {
    await fc.assert(
      fc.asyncProperty(route, body, async (url, b) => {
        await expectHandled(url, JSON.stringify(b) ?? "null");
      }),
      { numRuns: 600 },
    );
  });

  it("near-valid inference requests on the OIP route", async () => {
    await fc.assert(
      fc.asyncProperty(inferenceRequest, async (b) => {
        await expectHandled(OIP_INFER, JSON.stringify(b));
      }),
      { numRuns: 600 },
    );
  });

  it("arbitrary text as JSON", async () => {
    await fc.assert(
      fc.asyncProperty(route, fc.string({ maxLength: 200 }), async (url, text) => {
        await expectHandled(url, text);
      }),
      { numRuns: 300 },
    );
  });

  it("JSON with extreme numbers written as text", async () => {
    const number = fc.constantFrom("1e400", "-1e400", "1e-400", "1.7976931348623157e308", "-0", "0.0");
    await fc.assert(
      fc.asyncProperty(fc.array(number, { minLength: 3, maxLength: 3 }), async (xs) => {
        const status = await expectHandled("/v1/predict", `{"features":[${xs.join(",")}]}`);
        expect([200, 400]).toContain(status);
      }),
      { numRuns: 200 },
    );
  });

  it("other content types", async () => {
    await fc.assert(
      fc.asyncProperty(
        route,
        fc.constantFrom(
          "text/plain",
          "application/xml",
          "multipart/form-data",
          "application/octet-stream",
          "x/y",
        ),
        fc.string({ maxLength: 50 }),
        async (url, type, text) => {
          expect(await expectHandled(url, text, type)).toBe(415);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("bodies over the limit", async () => {
    const res = await predictor.inject({
      method: "POST",
      url: "/v1/predict/batch",
      headers: { "content-type": "application/json" },
      payload: `{"rows":[${'{"features":[0,0,0]},'.repeat(4000)}{"features":[0,0,0]}]}`,
    });
    expect(res.statusCode).toBe(413);
    expect(res.json().field).toBe("body");
  });

  it("still serves after all that", async () => {
    const res = await predictor.inject({
      method: "POST",
      url: "/v1/predict",
      payload: { features: [0, 0, 0] },
    });
    expect(res.statusCode).toBe(200);
  });
});

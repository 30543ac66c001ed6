import { afterEach, describe, expect, it } from "vitest";
import type { TestPredictor } from "./test-support.ts";
import { testPredictor } from "./test-support.ts";

/*
 * Bodies are parsed by plain JSON.parse (see app.ts): "__proto__" and "constructor" keys arrive as
 * own data properties. These tests hold every route to what makes that safe: such a key never
 * reaches a prototype and is rejected, like any other unknown key, with a 400 naming it.
 */

let predictor: TestPredictor;
afterEach(() => predictor?.app.close());

const POLLUTION = '{"polluted":true,"prototype":{"polluted":true}}';
const BAR = '{"ts":1,"open":1,"high":1,"low":1,"close":1,"volume":1}';

const cases: [string, string, string][] = [
  ["/v1/predict", `{"__proto__":${POLLUTION},"features":[0,0,0.02]}`, "__proto__"],
  ["/v1/predict", `{"constructor":${POLLUTION},"features":[0,0,0.02]}`, "constructor"],
  [
    "/v1/predict",
    `{"features":{"ret_1":0,"ret_5":0,"hl_range":0.02,"__proto__":${POLLUTION}}}`,
    "features.__proto__",
  ],
  ["/v1/predict", `{"bars":[{"__proto__":${POLLUTION},${BAR.slice(1)}]}`, "bars[0].__proto__"],
  ["/v1/predict/batch", `{"rows":[{"features":[0,0,0.02]}],"__proto__":${POLLUTION}}`, "__proto__"],
  [
    "/v1/predict/batch",
    `{"rows":[{"features":[0,0,0.02],"constructor":${POLLUTION}}]}`,
    "rows[0].constructor",
  ],
  ["/v1/feedback", `{"predictionId":"x","realized":0.1,"__proto__":${POLLUTION}}`, "__proto__"],
  [
    "/v1/feedback",
    `{"items":[{"predictionId":"x","realized":0.1,"constructor":${POLLUTION}}]}`,
    "items[0].constructor",
  ],
];

describe('"__proto__" and "constructor" keys in a body', () => {
  it.each(cases)("%s %s: 400 naming %s, no prototype touched", async (url, payload, field) => {
    predictor = testPredictor();
    const res = await predictor.inject({
      method: "POST",
      url,
      headers: { "content-type": "application/json" },
      payload,
    });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ reason: "invalid_body", field });
    expect(res.json().error.startsWith(field)).toBe(true);
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
    expect(Object.hasOwn(Object.prototype, "polluted")).toBe(false);
    expect(Object.hasOwn(Function.prototype, "polluted")).toBe(false);

    const after = await predictor.inject({
      method: "POST",
      url: "/v1/predict",
      payload: { features: [0, 0, 0.02] },
    });
    expect(after.statusCode).toBe(200);
  });
});

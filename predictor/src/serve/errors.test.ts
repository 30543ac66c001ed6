import { describe, expect, it } from "vitest";
import { describeValue, fieldPath, schemaError } from "./errors.ts";

describe("fieldPath", () => {
  it("writes paths as a JavaScript reader expects them", () => {
    expect(fieldPath("", "features")).toBe("features");
    expect(fieldPath("rows", 3)).toBe("rows[3]");
    expect(fieldPath("rows[3]", "features")).toBe("rows[3].features");
    expect(fieldPath("features", "ret 5")).toBe('features["ret 5"]');
    expect(fieldPath("", "a.b")).toBe('body["a.b"]');
    expect(fieldPath("", 0)).toBe("body[0]");
  });
});

describe("describeValue", () => {
  it("says what came instead, without echoing a large input back", () => {
    expect(describeValue(null)).toBe("null");
    expect(describeValue("NaN")).toBe('"NaN"');
    expect(describeValue("x".repeat(10_000))).toBe(`a string "${"x".repeat(40)}"...`);
    expect(describeValue([1, 2])).toBe("an array of 2");
    expect(describeValue({ a: 1 })).toBe("an object");
    expect(describeValue(undefined)).toBe("nothing");
    expect(describeValue(Number.POSITIVE_INFINITY)).toBe("Infinity");
  });
});

/** The error of ajv's one complaint `keyword` at `instancePath`. */
function schemaErrorOf(keyword: string, instancePath: string, params: Record<string, unknown>, message = "") {
  return schemaError([{ keyword, instancePath, schemaPath: "", params, message }]);
}

describe("schemaError", () => {
  it("names the field from ajv's JSON pointer", () => {
    expect(schemaErrorOf("type", "/items/2/realized", {}, "must be number")).toMatchObject({
      statusCode: 400,
      field: "items[2].realized",
      message: "items[2].realized must be number",
    });
  });

  it("names an unknown or a missing field itself, not its parent", () => {
    expect(schemaErrorOf("additionalProperties", "", { additionalProperty: "x/y" })).toMatchObject({
      field: 'body["x/y"]',
      message: 'body["x/y"] is not a known field',
    });
    expect(schemaErrorOf("required", "/items/0", { missingProperty: "realized" })).toMatchObject({
      field: "items[0].realized",
      message: "items[0].realized is required",
    });
  });
});

import { describe, expect, it } from "vitest";
import { jsonFloorPassMs, serverTimingMs } from "./batch.ts";

describe("serverTimingMs", () => {
  it("reads the named metric's duration among several", () => {
    expect(serverTimingMs("app;dur=0.412", "app")).toBe(0.412);
    expect(serverTimingMs('db;dur=3, app;desc="predict";dur=1.5', "app")).toBe(1.5);
  });
  it("says what is missing", () => {
    expect(() => serverTimingMs(null, "app")).toThrow("server-timing: no metric 'app' in ''");
    expect(() => serverTimingMs("db;dur=3", "app")).toThrow(/no metric 'app'/);
    expect(() => serverTimingMs("app;desc=x", "app")).toThrow(/'app' has no valid dur/);
    expect(() => serverTimingMs("app;dur=abc", "app")).toThrow(/'app' has no valid dur/);
  });
});

describe("jsonFloorPassMs", () => {
  it("times parsing a body and writing its answer's numbers, and refuses a pass that did neither", () => {
    const body = Buffer.from(JSON.stringify({ rows: [{ features: [1, 2] }] }));
    expect(jsonFloorPassMs(body, Float64Array.of(0.25, -0.5, 1e-7))).toBeGreaterThanOrEqual(0);
    expect(() => jsonFloorPassMs(Buffer.from("{}"), Float64Array.of(1))).toThrow(/nothing parsed/);
  });
});

import { describe, expect, it } from "vitest";
import { serverTimingMs } from "./batch.ts";

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

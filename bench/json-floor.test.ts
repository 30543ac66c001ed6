import { afterEach, describe, expect, it } from "vitest";
import { serverTimingMs } from "./batch.ts";
import { type JsonFloor, jsonFloorPassMs, startJsonFloor } from "./json-floor.ts";

describe("jsonFloorPassMs", () => {
  it("times parsing a body and writing its answer's numbers, and refuses a pass that did neither", () => {
    const body = Buffer.from(JSON.stringify({ rows: [{ features: [1, 2] }] }));
    expect(jsonFloorPassMs(body, Float64Array.of(0.25, -0.5, 1e-7))).toBeGreaterThanOrEqual(0);
    expect(() => jsonFloorPassMs(Buffer.from("{}"), Float64Array.of(1))).toThrow(/nothing parsed/);
  });
});

describe("startJsonFloor", () => {
  let floor: JsonFloor | undefined;
  afterEach(async () => {
    await floor?.stop();
    floor = undefined;
  });

  it("times passes in its own process over the bodies it was given, and says which pass it could not time", async () => {
    floor = await startJsonFloor([JSON.stringify({ rows: [[1, 2]] }), "{}"]);
    const numbers = Float64Array.of(0.5, -0.25, 1e-7);
    expect(await floor.passMs(0, numbers)).toBeGreaterThanOrEqual(0);
    await expect(floor.passMs(2, numbers)).rejects.toThrow("json floor: no body 2 (2 bodies)");
    await expect(floor.passMs(1, numbers)).rejects.toThrow(
      "json floor: jsonFloorPassMs: nothing parsed or formatted",
    );
    expect(await floor.passMs(0, numbers)).toBeGreaterThanOrEqual(0);
  });

  it("is also an endpoint that parses a body and writes the numbers of the last pass, timed in server-timing", async () => {
    floor = await startJsonFloor([JSON.stringify({ rows: [[1, 2]] })]);
    await floor.passMs(0, Float64Array.of(0.5, -0.25, 1e-7));
    const res = await fetch(floor.url, { method: "POST", body: JSON.stringify({ rows: [[3, 4]] }) });
    expect(await res.json()).toEqual([0.5, -0.25, 1e-7]);
    expect(serverTimingMs(res.headers.get("server-timing"), "app")).toBeGreaterThan(0);
  });

  it("reports the CPU time of its own process, which starting node alone takes above zero", async () => {
    floor = await startJsonFloor([JSON.stringify({ rows: [[1, 2]] })]);
    const atStart = floor.cpuSeconds();
    expect(atStart).toBeGreaterThan(0);
    for (let i = 0; i < 200; i++) await floor.passMs(0, Float64Array.of(i));
    expect(floor.cpuSeconds()).toBeGreaterThanOrEqual(atStart);
  });
});

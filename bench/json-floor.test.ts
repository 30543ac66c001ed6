import { afterEach, describe, expect, it } from "vitest";
import { serverTimingMs } from "./batch.ts";
import { answerNumbers, type JsonFloor, jsonFloorPassMs, startJsonFloor } from "./json-floor.ts";

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

  it("reports the CPU time of its own process: its passes over a large body, not the caller's waiting", async () => {
    floor = await startJsonFloor([
      JSON.stringify({ rows: Array.from({ length: 100_000 }, (_, i) => [i, 0.5]) }),
    ]);
    const [floorBefore, ours] = [floor.cpuSeconds(), process.cpuUsage()];
    for (let i = 0; i < 20; i++) await floor.passMs(0, Float64Array.of(i));
    const floorUsed = floor.cpuSeconds() - floorBefore;
    const { user, system } = process.cpuUsage(ours);
    expect(floorUsed).toBeGreaterThanOrEqual(0.05);
    expect(floorUsed).toBeGreaterThan((user + system) / 1e6);
  });
});

describe("answerNumbers", () => {
  const interval = (y: number) => ({ lower: y - 0.1, upper: y + 0.2, level: 0.9 });
  it("reads prediction, lower and upper of a /v1 answer, of each row of a batch, and of OIP's tensors", () => {
    expect(answerNumbers({ prediction: 1, interval: interval(1), predictionId: "a" }, 1, "u")).toEqual(
      Float64Array.of(1, 0.9, 1.2),
    );
    const results = [1, 2].map((y) => ({ prediction: y, interval: interval(y) }));
    expect(answerNumbers({ model: "m", results }, 2, "u")).toEqual(Float64Array.of(1, 0.9, 1.2, 2, 1.9, 2.2));
    const outputs = [
      { name: "prediction", data: [1, 2] },
      { name: "lower", data: [0.9, 1.9] },
      { name: "upper", data: [1.2, 2.2] },
    ];
    expect(answerNumbers({ outputs }, 2, "u")).toEqual(Float64Array.of(1, 2, 0.9, 1.9, 1.2, 2.2));
  });

  it("refuses an answer with another number of rows, or with a number missing", () => {
    expect(() => answerNumbers({ prediction: 1, interval: interval(1) }, 2, "http://x")).toThrow(
      /http:\/\/x: expected 2 rows of 3 numbers/,
    );
    expect(() => answerNumbers({ prediction: 1 }, 1, "u")).toThrow(/expected 1 rows of 3 numbers/);
    expect(() => answerNumbers({ error: "no" }, 1, "u")).toThrow(/expected 1 rows/);
  });
});

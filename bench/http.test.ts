import { describe, expect, it } from "vitest";
import {
  type AtOnceRun,
  cpuPerRequestInRound,
  type FixedRateReport,
  type HalfPeakRound,
  latencyInRound,
  oipRequestBodies,
  pairedFigure,
  requestBodies,
  requestsPerCpuSecond,
  roundOrder,
  spread,
} from "./http.ts";
import type { WrkReport } from "./wrk.ts";

describe("roundOrder", () => {
  it("measures every target once per round, lets each group go first in turn, a group back to back", () => {
    expect(roundOrder([["v1", "oip"], ["flask"], ["node"]], 4)).toEqual([
      ["v1", "oip", "flask", "node"],
      ["flask", "node", "oip", "v1"],
      ["node", "v1", "oip", "flask"],
      ["oip", "v1", "flask", "node"],
    ]);
  });
});

describe("requestBodies", () => {
  it("gives `count` different bodies, rows by name, the first pass the rows themselves", () => {
    const rows = [
      [0.1, -0.2],
      [0.3, 0.4],
      [0.5, 0.6],
    ];
    const lines = requestBodies(["a", "b"], rows, 8).split("\n");
    expect(lines).toHaveLength(8);
    expect(new Set(lines).size).toBe(8);
    const bodies = lines.map((l) => JSON.parse(l) as { features: Record<string, number> });
    expect(bodies.slice(0, 3).map((b) => [b.features.a, b.features.b])).toEqual(rows);
    for (const [i, body] of bodies.entries()) {
      expect(Object.keys(body.features)).toEqual(["a", "b"]);
      expect(body.features.a).toBeCloseTo((rows[i % 3] as number[])[0] as number, 8);
    }
  });
});

describe("oipRequestBodies", () => {
  it("gives the same rows as OIP requests of one [1, F] FP64 tensor each", () => {
    const lines = oipRequestBodies([[0.1, -0.2]], 2).split("\n");
    expect(JSON.parse(lines[0] as string)).toEqual({
      inputs: [{ name: "input-0", shape: [1, 2], datatype: "FP64", data: [0.1, -0.2] }],
    });
    expect(JSON.parse(lines[1] as string).inputs[0].data[0]).toBeCloseTo(0.1, 8);
    expect(lines[1]).not.toBe(lines[0]);
  });
});

describe("requestsPerCpuSecond", () => {
  it("divides a side's answered requests by its process's CPU seconds, not by the run's length", () => {
    const side = (requests: number, cpuSeconds: number): AtOnceRun => ({
      wrk: { requests, durationS: 4, requestsPerSecond: requests / 4 } as WrkReport,
      cpuSeconds,
    });
    // The same rate over the same 4 s, but the second process got more of the core for it.
    expect(requestsPerCpuSecond(side(40_000, 2))).toBe(20_000);
    expect(requestsPerCpuSecond(side(40_000, 2.5))).toBe(16_000);
  });
});

describe("pairedFigure and spread", () => {
  it("gives each side's median, ours over the baseline round by round, and max over min", () => {
    const figure = pairedFigure(
      "req/s",
      "req/s",
      "higher",
      [
        [2000, 3000, 1000],
        [200, 200, 125],
      ],
      "base",
      {
        ratioAtLeast: 12,
      },
    );
    expect(figure).toMatchObject({
      value: 2000,
      baseline: { name: "base", value: 200 },
      goal: { ratioAtLeast: 12 },
    });
    expect(figure.rounds).toEqual([10, 15, 8]);
    expect(spread(figure.rounds)).toBeCloseTo(15 / 8, 12);
    // The round's own pair decides, not the two medians (here 1.5 and 0.5 against 2 / 2 = 1).
    const tails: [number[], number[]] = [
      [3, 1],
      [2, 2],
    ];
    const noGoal = pairedFigure("p99", "ms", "lower", tails, "base");
    expect(noGoal.rounds).toEqual([1.5, 0.5]);
    expect(noGoal).not.toHaveProperty("goal");
  });
});

describe("a half-peak round's figures", () => {
  const latency = (p99: number) => ({ p50: p99 / 10, p90: p99 / 2, p99, p999: p99 * 2, max: p99 * 3 });
  const report = {
    byUrl: [
      { url: "http://127.0.0.1:1/v1/predict", written: 40, sent: 10, completed: 10, latencyMs: latency(0.9) },
      { url: "http://127.0.0.1:2/v1/predict", written: 50, sent: 10, completed: 10, latencyMs: latency(0.4) },
      { url: "http://127.0.0.1:3/v1/predict", written: 40, sent: 10, completed: 0, latencyMs: null },
    ],
  } as FixedRateReport;
  const round: HalfPeakRound = {
    order: ["nodeHttp", "predictor", "nodeHttpTwin"],
    report,
    cpuSeconds: { predictor: 0.002, nodeHttp: 0.001, nodeHttpTwin: 0.001, jsonFloor: 0 },
  };
  it("reads a server's latencies from the URL its round gave it, and refuses one with no answers", () => {
    expect(latencyInRound(round, "predictor", "p99")).toBe(0.4);
    expect(latencyInRound(round, "nodeHttp", "p99")).toBe(0.9);
    expect(latencyInRound(round, "predictor", "p90")).toBe(0.2);
    expect(() => latencyInRound(round, "nodeHttpTwin", "p99")).toThrow(
      /no answered requests of nodeHttpTwin/,
    );
  });
  it("divides a server's CPU time over the round by every request written to it, warm-ups included", () => {
    expect(cpuPerRequestInRound(round, "predictor")).toBeCloseTo(40, 10);
    expect(cpuPerRequestInRound(round, "nodeHttp")).toBeCloseTo(25, 10);
  });
});

import { describe, expect, it } from "vitest";
import { assertCleanRun, parseWrkOutput, WRK_SCRIPT, wrkArgs } from "./wrk.ts";

const REAL_OUTPUT = `Running 1s test @ http://127.0.0.1:18099/
  1 threads and 2 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   809.72us  311.95us   3.79ms   71.78%
    Req/Sec     2.26k   121.94     2.47k    63.64%
  2476 requests in 1.10s, 1.31MB read
Requests/sec:   2250.78
Transfer/sec:      1.19MB
BENCH_WRK_JSON {"requests":2476,"durationUs":1100065,"bytes":1374180,"errors":{"connect":0,"read":0,"write":0,"status":0,"timeout":0},"latencyUs":{"mean":809.718,"stdev":311.952,"max":3794,"p50":775,"p90":1205,"p99":1708,"p999":2906}}
`;

describe("parseWrkOutput", () => {
  it("reads the script's report line into requests/s and latencies in ms", () => {
    const r = parseWrkOutput(REAL_OUTPUT);
    expect(r.requests).toBe(2476);
    expect(r.durationS).toBeCloseTo(1.100065, 9);
    expect(r.requestsPerSecond).toBeCloseTo(2250.78, 2);
    expect(r.latencyMs).toEqual({
      mean: expect.closeTo(0.809718, 9),
      stdev: expect.closeTo(0.311952, 9),
      max: 3.794,
      p50: 0.775,
      p90: 1.205,
      p99: 1.708,
      p999: 2.906,
    });
    expect(r.errors).toEqual({ connect: 0, read: 0, write: 0, status: 0, timeout: 0 });
  });

  it("says what is wrong when the report line is missing, not JSON, or lacks a field", () => {
    expect(() => parseWrkOutput("Requests/sec: 10\n")).toThrow(/no 'BENCH_WRK_JSON' line/);
    expect(() => parseWrkOutput("BENCH_WRK_JSON {oops\n")).toThrow(/not JSON/);
    const noP99 = REAL_OUTPUT.replace('"p99":1708,', "");
    expect(() => parseWrkOutput(noP99)).toThrow(/'latencyUs\.p99'/);
    const noErrors = REAL_OUTPUT.replace(/"errors":\{[^}]*\},/, "");
    expect(() => parseWrkOutput(noErrors)).toThrow(/'errors'/);
  });
});

describe("assertCleanRun", () => {
  it("refuses a run whose answers were errors", () => {
    const r = parseWrkOutput(REAL_OUTPUT.replace('"status":0', '"status":2476'));
    expect(() => assertCleanRun(r, "predictor")).toThrow(/predictor: wrk run is not clean: 2476 non-2xx/);
  });
  it("names every kind of error it found", () => {
    const r = parseWrkOutput(
      REAL_OUTPUT.replace('"read":0', '"read":3').replace('"timeout":0', '"timeout":2'),
    );
    expect(() => assertCleanRun(r, "flask")).toThrow(
      "flask: wrk run is not clean: 3 read errors, 2 timeout errors",
    );
  });
  it("accepts a clean run", () => {
    expect(() => assertCleanRun(parseWrkOutput(REAL_OUTPUT), "predictor")).not.toThrow();
  });
});

describe("wrkArgs", () => {
  it("bounds the run in time and posts through the report script", () => {
    expect(
      wrkArgs({ url: "http://127.0.0.1:1/v1/predict", threads: 1, connections: 32, durationS: 10 }),
    ).toEqual(["-t1", "-c32", "-d10s", "--timeout", "5s", "-s", WRK_SCRIPT, "http://127.0.0.1:1/v1/predict"]);
  });
});

import { describe, expect, it } from "vitest";
import { analysisSchema } from "../api/delivery.ts";
import { admit } from "../api/local-admission.ts";
import type { TradingModelSpec } from "../api/types.ts";
import { configuredChecks, judge, normalCdf, overall, readingsFor, worseThanStablePValue } from "./checks.ts";
import type { Measurement, Reading, ReadingName, TrackReadings } from "./measurement.ts";

type Analysis = TradingModelSpec["analysis"];
const analysis = (raw: Record<string, unknown>): Analysis => admit(analysisSchema, raw).object as Analysis;
const v = (value: number): Reading => ({ value });
const track = (over: Partial<TrackReadings> = {}): TrackReadings => ({
  feedback: v(400),
  feedbackHits: v(224),
  requests: v(2000),
  errors: v(0),
  latencyP95Seconds: v(0.012),
  psiMax: v(0.08),
  shadowCompared: v(500),
  shadowSignAgreements: v(470),
  shadowAbsDiffSum: v(0.25),
  strategyOutcomes: v(400),
  strategyGains: v(0.9),
  strategyLosses: v(0.7),
  ...over,
});
const measurement = (candidate: TrackReadings, stable?: TrackReadings): Measurement => ({
  version: 2,
  measuredAt: "2026-11-24T10:00:00.000Z",
  window: "1m",
  candidate,
  ...(stable ? { stable } : {}),
});

describe("analysis checks", () => {
  const all = analysis({
    minSamples: 100,
    accuracy: { min: 0.55 },
    latencyP95Ms: { max: 25 },
    errorRate: { max: 0.01 },
    drift: { psiMax: 0.2 },
  });

  it("passes each check within its threshold and reports value, threshold, samples and window", () => {
    const results = judge(all, measurement(track()));
    expect(results.map((r) => [r.check, r.verdict, r.value, r.samples])).toEqual([
      ["accuracy", "Passed", 0.56, 400],
      ["latencyP95Ms", "Passed", 12, 2000],
      ["errorRate", "Passed", 0, 2000],
      ["drift", "Passed", 0.08, undefined],
    ]);
    expect(results.every((r) => r.window === "1m")).toBe(true);
    expect(overall(results)).toBe("Passed");
  });

  it("fails each check just past its threshold, saying the numbers", () => {
    const results = judge(
      all,
      measurement(
        track({ feedbackHits: v(219), latencyP95Seconds: v(0.0251), errors: v(21), psiMax: v(0.21) }),
      ),
    );
    expect(results.map((r) => r.verdict)).toEqual(["Failed", "Failed", "Failed", "Failed"]);
    expect(results.map((r) => r.message)).toEqual([
      "accuracy 0.547 < 0.55 over 400 predictions with feedback",
      "p95 latency 25.1 ms > 25 ms over 2000 requests",
      "error rate 0.0105 > 0.01 (21 of 2000 requests)",
      "worst feature PSI 0.21 > 0.2",
    ]);
    expect(overall(results)).toBe("Failed");
  });

  it("applies onNoData to too few samples: Wait holds, Fail fails, Pass passes", () => {
    const few = measurement(track({ feedback: v(40), feedbackHits: v(30) }));
    const only = (onNoData: string) =>
      judge(analysis({ minSamples: 100, onNoData, accuracy: { min: 0.55 } }), few)[0];
    expect(only("Wait")).toMatchObject({ verdict: "NoData", samples: 40 });
    expect(only("Fail")?.verdict).toBe("Failed");
    expect(only("Pass")?.verdict).toBe("Passed");
    expect(only("Wait")?.message).toBe("accuracy: 40 predictions with feedback < minSamples 100; waiting");
  });

  it("never passes a reading Prometheus failed to give, and fails when every reading errored under Fail", () => {
    const down: Reading = { error: "prometheus http://127.0.0.1:9/: timed out after 2000 ms" };
    const broken = measurement(
      track({
        feedback: down,
        feedbackHits: down,
        requests: down,
        errors: down,
        latencyP95Seconds: down,
        psiMax: down,
      }),
    );
    const pass = judge({ ...all, onNoData: "Pass" }, broken);
    expect(pass.map((r) => r.verdict)).toEqual(["NoData", "NoData", "NoData", "NoData"]);
    expect(overall(pass)).toBe("NoData");
    expect(overall(judge({ ...all, onNoData: "Fail" }, broken))).toBe("Failed");
    expect(pass[0]?.message).toContain("timed out after 2000 ms");
  });

  it("counts no error series as no errors, but no request series as no data", () => {
    const results = judge(
      analysis({ minSamples: 10, errorRate: { max: 0.01 } }),
      measurement(track({ errors: { absent: true } })),
    );
    expect(results[0]).toMatchObject({ verdict: "Passed", value: 0 });
    const none = judge(
      analysis({ minSamples: 10, errorRate: { max: 0.01 } }),
      measurement(track({ requests: { absent: true } })),
    );
    expect(none[0]?.verdict).toBe("NoData");
  });
});

describe("candidate against stable: one-sided two-proportion test", () => {
  it("matches the normal distribution's known quantiles", () => {
    expect(normalCdf(0)).toBeCloseTo(0.5, 7);
    expect(normalCdf(-1.959964)).toBeCloseTo(0.025, 6);
    expect(normalCdf(1.644854)).toBeCloseTo(0.95, 6);
  });

  it("fails a candidate significantly worse than stable and passes one within noise, reporting the p-value", () => {
    const spec = analysis({ minSamples: 200, accuracyVsStable: { confidence: 0.95 } });
    // 52% against 58% on 1,000 outcomes each: z = -2.70, p = 0.0035.
    const worse = judge(
      spec,
      measurement(
        track({ feedback: v(1000), feedbackHits: v(520) }),
        track({ feedback: v(1000), feedbackHits: v(580) }),
      ),
    )[0];
    expect(worse).toMatchObject({
      check: "accuracyVsStable",
      verdict: "Failed",
      threshold: 0.05,
      stableValue: 0.58,
    });
    expect(worse?.value).toBeCloseTo(0.0035, 3);
    expect(worse?.message).toContain("significantly worse at 0.95");
    // 56% against 58% on 300 each: z = -0.50, p = 0.31.
    const noisy = judge(
      spec,
      measurement(
        track({ feedback: v(300), feedbackHits: v(168) }),
        track({ feedback: v(300), feedbackHits: v(174) }),
      ),
    )[0];
    expect(noisy?.verdict).toBe("Passed");
    expect(noisy?.value).toBeCloseTo(0.31, 2);
  });

  it("waits until both sides have minSamples", () => {
    const spec = analysis({ minSamples: 200, accuracyVsStable: { confidence: 0.95 } });
    const r = judge(
      spec,
      measurement(track({ feedback: v(500) }), track({ feedback: v(150), feedbackHits: v(90) })),
    )[0];
    expect(r?.verdict).toBe("NoData");
    expect(worseThanStablePValue({ hits: 5, total: 10 }, { hits: 5, total: 10 })).toBeCloseTo(0.5, 6);
  });

  describe("strategy return after costs", () => {
    const pnl = analysis({ minSamples: 100, strategyReturnBps: { min: 0 } });

    it("passes a strategy that earns after costs, with the mean per trade in basis points", () => {
      const [result] = judge(pnl, measurement(track()));
      expect(result).toMatchObject({
        check: "strategyReturnBps",
        verdict: "Passed",
        samples: 400,
        threshold: 0,
      });
      expect(result?.value).toBeCloseTo(5, 9); // (0.9 - 0.7) / 400 = 5 bps
      expect(result?.message).toBe(
        "strategy return 5 bps per trade after costs >= 0 bps over 400 scored outcomes",
      );
    });

    it("fails a strategy that loses money after costs although its hit rate passes", () => {
      const both = analysis({ minSamples: 100, accuracy: { min: 0.55 }, strategyReturnBps: { min: 0 } });
      const results = judge(both, measurement(track({ strategyGains: v(0.5), strategyLosses: v(0.9) })));
      expect(results.map((r) => [r.check, r.verdict])).toEqual([
        ["accuracy", "Passed"],
        ["strategyReturnBps", "Failed"],
      ]);
      expect(results[1]?.message).toBe(
        "strategy return -10 bps per trade after costs < 0 bps over 400 scored outcomes",
      );
      expect(overall(results)).toBe("Failed");
    });

    it("counts a sign with no series yet as no trade of that sign, and too few outcomes as no data", () => {
      const gainsOnly = judge(pnl, measurement(track({ strategyLosses: { absent: true } })))[0];
      expect(gainsOnly?.value).toBeCloseTo(22.5, 9);
      const few = judge(pnl, measurement(track({ strategyOutcomes: v(40) })))[0];
      expect(few).toMatchObject({ verdict: "NoData" });
      expect(few?.message).toBe("strategy return: 40 scored outcomes < minSamples 100; waiting");
      const down = judge(pnl, measurement(track({ strategyGains: { error: "prometheus timeout" } })))[0];
      expect(down?.verdict).toBe("NoData");
    });
  });
});

describe("shadow agreement checks", () => {
  const spec = analysis({
    minSamples: 200,
    accuracy: { min: 0.55 },
    errorRate: { max: 0.01 },
    signAgreement: { min: 0.9 },
    meanAbsDiff: { max: 0.001 },
  });

  it("judges a shadow on agreement, latency, errors and drift, never on accuracy; live, the reverse", () => {
    expect(configuredChecks(spec, "shadow")).toEqual(["errorRate", "signAgreement", "meanAbsDiff"]);
    expect(configuredChecks(spec, "live")).toEqual(["accuracy", "errorRate"]);
  });

  it("passes an agreeing shadow and fails a disagreeing one, with the numbers", () => {
    // 470 of 500 signs agree (0.94); mean |difference| 0.25 / 500 = 0.0005.
    const agreeing = judge(spec, measurement(track()), "shadow");
    expect(agreeing.map((r) => [r.check, r.verdict, r.value, r.samples])).toEqual([
      ["errorRate", "Passed", 0, 2000],
      ["signAgreement", "Passed", 0.94, 500],
      ["meanAbsDiff", "Passed", 0.0005, 500],
    ]);
    const disagreeing = judge(
      spec,
      measurement(track({ shadowSignAgreements: v(210), shadowAbsDiffSum: v(1.5) })),
      "shadow",
    );
    expect(disagreeing.slice(1).map((r) => r.message)).toEqual([
      "sign agreement with stable 0.42 < 0.9 (210 of 500 mirrored predictions)",
      "mean absolute difference from stable 0.003 > 0.001 over 500 mirrored predictions",
    ]);
    expect(overall(disagreeing)).toBe("Failed");
  });

  it("waits for minSamples compared predictions, and never passes on an unreadable comparison", () => {
    const few = judge(spec, measurement(track({ shadowCompared: v(150) })), "shadow");
    expect(few[1]).toMatchObject({ verdict: "NoData" });
    expect(few[1]?.message).toBe(
      "sign agreement: 150 predictions compared with stable < minSamples 200; waiting",
    );
    const broken = judge(
      analysis({ ...spec, onNoData: "Pass" }),
      measurement(track({ shadowCompared: { error: "prometheus: timed out" } })),
      "shadow",
    );
    expect(broken.slice(1).map((r) => r.verdict)).toEqual(["NoData", "NoData"]);
  });
});

describe("the readings each check asks the provider for", () => {
  const every = analysis({
    minSamples: 100,
    accuracy: { min: 0.55 },
    accuracyVsStable: { confidence: 0.95 },
    latencyP95Ms: { max: 25 },
    errorRate: { max: 0.01 },
    drift: { psiMax: 0.2 },
    strategyReturnBps: { min: 0 },
    signAgreement: { min: 0.9 },
    meanAbsDiff: { max: 0.001 },
  });
  const only = (t: TrackReadings, names: ReadingName[]) =>
    Object.fromEntries(names.map((name) => [name, t[name]])) as Partial<TrackReadings>;

  it("are all a check judges from: each judges the same on them alone as on every reading", () => {
    const tracks = {
      passing: track(),
      failing: track({ feedbackHits: v(150), errors: v(90), latencyP95Seconds: v(0.2), strategyGains: v(0) }),
      few: track({ feedback: v(20), requests: v(30), shadowCompared: v(10), strategyOutcomes: v(5) }),
    };
    for (const phase of ["live", "shadow"] as const) {
      for (const check of configuredChecks(every, phase)) {
        const needed = readingsFor([check]);
        for (const [name, t] of Object.entries(tracks)) {
          const stable = track({ feedbackHits: v(260) });
          const full = judge(every, measurement(t, stable), phase).find((r) => r.check === check);
          const asked = judge(
            every,
            { ...measurement(t), candidate: only(t, needed.candidate), stable: only(stable, needed.stable) },
            phase,
          ).find((r) => r.check === check);
          expect(asked, `${check} on the ${name} readings`).toEqual(full);
        }
      }
    }
  });

  it("are each asked once, and on stable only for accuracyVsStable", () => {
    expect(readingsFor(["errorRate"])).toEqual({ candidate: ["requests", "errors"], stable: [] });
    expect(readingsFor(["latencyP95Ms", "errorRate", "accuracyVsStable"])).toEqual({
      candidate: ["requests", "latencyP95Seconds", "errors", "feedback", "feedbackHits"],
      stable: ["feedback", "feedbackHits"],
    });
  });

  it("never passes a check on a reading that was not measured, whatever onNoData says", () => {
    const [result] = judge(analysis({ minSamples: 10, onNoData: "Pass", errorRate: { max: 0.01 } }), {
      ...measurement(track()),
      candidate: { requests: v(2000) },
    });
    expect(result).toMatchObject({ verdict: "NoData" });
    expect(result?.message).toContain("not measured");
  });

  it("waits on a p95 Prometheus could not compute, saying so rather than counting requests short", () => {
    const [result] = judge(
      analysis({ minSamples: 100, latencyP95Ms: { max: 25 } }),
      measurement(track({ latencyP95Seconds: { absent: true } })),
    );
    expect(result).toMatchObject({ verdict: "NoData" });
    expect(result?.message).toBe("p95 latency: no latency histogram over 2000 requests; waiting");
  });
});

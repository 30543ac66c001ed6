import { describe, expect, it } from "vitest";
import { canaryTimeline, type LogLine } from "./timeline.ts";

const reconciled = (time: number, ...events: string[]): LogLine => ({ msg: "reconciled", time, events });

describe("canaryTimeline", () => {
  const steps = [
    { msg: "measured", time: 900 },
    reconciled(500, "VersionPromoted"), // the first version's, before the canary
    reconciled(1_000, "RolloutStarted"),
    reconciled(1_100),
    reconciled(3_000, "TrafficShifted"),
    reconciled(8_100, "RolloutStepAdvanced"),
    reconciled(8_150, "TrafficShifted"),
    reconciled(13_200, "AnalysisInconclusive"),
    reconciled(18_200, "RolloutStepAdvanced"),
    reconciled(21_000, "VersionPromoted"),
    reconciled(30_000, "RolloutStarted"),
  ];

  it("splits start to promotion into pod waits, each step's analysis and the promotion", () => {
    expect(canaryTimeline(steps, 900)).toEqual({
      totalMs: 20_000,
      steps: [
        { podsMs: 2_000, analysisMs: 5_100 },
        { podsMs: 50, analysisMs: 10_050 },
      ],
      promotionMs: 2_800,
      inconclusive: 1,
    });
  });

  it("has nothing to say about a canary that was rolled back or is not over", () => {
    expect(canaryTimeline([reconciled(1, "RolloutStarted"), reconciled(2, "RolledBack")])).toBeUndefined();
    expect(canaryTimeline(steps, 25_000)).toBeUndefined();
  });
});

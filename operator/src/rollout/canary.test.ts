import { describe, expect, it } from "vitest";
import { storedModel } from "../testing/fixtures.ts";
import { canary } from "./canary.ts";
import type { RolloutInput, RolloutState } from "./machine.ts";

const spec = storedModel("spy-momentum.yaml", (raw) => {
  const s = raw.spec as Record<string, Record<string, unknown>>;
  s.serving = { replicas: 2 };
  s.analysis = { ...s.analysis, interval: "5s" };
}).spec;
const t0 = Date.parse("2026-12-06T03:00:00Z");
const at = (seconds: number) => new Date(t0 + seconds * 1000);

/** v2's canary at its first step (5%, one canary pod beside two stable ones: 33%). */
function input(over: Partial<RolloutInput> & { state: RolloutState }): RolloutInput {
  return {
    spec,
    stable: 1,
    candidate: 2,
    traffic: { weight: 33, settled: true, stableReady: 2, candidateReady: 1 },
    stableOnCandidate: false,
    stableReadyOnCandidate: 0,
    candidateStalled: false,
    now: at(0),
    ...over,
  };
}
const waiting: RolloutState = {
  version: 2,
  fromVersion: 1,
  strategy: "Canary",
  phase: "Progressing",
  startedAt: at(-3).toISOString(),
  stepIndex: 0,
  steps: [5, 25, 50, 100],
  desiredWeight: 5,
  weight: 0,
  failures: 0,
  consecutiveNoData: 0,
  measurementsInStep: 0,
};

describe("canary timing", () => {
  it("starts a step's clock when its pods are ready and looks again exactly one interval later", () => {
    const decision = canary(input({ state: waiting, now: at(0.37) }));
    expect(decision.state.stepStartedAt).toBe(at(0.37).toISOString());
    expect(decision.requeueAfterSeconds).toBe(5);
  });

  it("in mid-step, looks again when the interval ends, to the tenth of a second", () => {
    const stepping = { ...waiting, weight: 33, stepStartedAt: at(0).toISOString() };
    expect(canary(input({ state: stepping, now: at(3.27) })).requeueAfterSeconds).toBe(1.8);
    // However close the end, never a zero wait that would spin.
    expect(canary(input({ state: stepping, now: at(4.49) })).requeueAfterSeconds).toBe(0.6);
    expect(canary(input({ state: stepping, now: at(4.99) })).requeueAfterSeconds).toBe(0.1);
  });
});

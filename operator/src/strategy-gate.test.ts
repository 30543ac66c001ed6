import { describe, expect, it } from "vitest";
import type { StrategyMetrics } from "../../predictor/src/artifact.ts";
import { metrics, storedModel } from "./testing/fixtures.ts";
import { World } from "./testing/world.ts";

/** The fixture's strategy metrics with the given Sharpe ratio. */
const strategy = (sharpe: number): StrategyMetrics => ({
  ...(metrics().strategy as StrategyMetrics),
  sharpe,
});

const versionOf = (world: World, version: number) => world.versions.find((v) => v.spec.version === version);

describe("the gate on the strategy's P&L, through a reconcile", () => {
  it("rejects a first version with a good R² and hit rate whose strategy loses money after costs", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingSucceeds(1, metrics({ r2: 0.04, directionalAccuracy: 0.58, strategy: strategy(-0.8) }));
    const plan = world.reconcile();
    const v1 = versionOf(world, 1);
    expect(v1?.status?.stage).toBe("Rejected");
    expect(v1?.status?.metrics?.strategy?.sharpe).toBe(-0.8);
    const rejected = plan.events.find((e) => e.reason === "CandidateRejected");
    expect(rejected?.message).toMatch(
      /^v1 failed: Sharpe after costs -0\.8000 < 0\.0000 \(minSharpe\); R² 0\.0400 >= /,
    );
    expect(plan.apply.some((o) => o.kind === "Deployment")).toBe(false);
  });

  it("records the trainer's comparison of candidate and champion strategy returns on the ModelVersion", () => {
    const world = new World(storedModel("mean-reversion-bluegreen.yaml"));
    world.reconcile();
    world.trainingSucceeds(1, metrics({ strategy: strategy(2) }));
    world.reconcile();
    world.rolloutCompletes();
    world.reconcile();
    world.editSpec((spec) => {
      spec.training.holdoutFraction = 0.3;
    });
    world.reconcile();
    const comparison = {
      meanDifference: 3e-6,
      standardError: 2e-6,
      pValue: 0.1336,
      effectiveSamples: 2811.2,
      samples: 9000,
      bandwidth: 6.1,
    };
    world.trainingSucceeds(
      2,
      metrics({ directionalAccuracy: 0.54, strategy: strategy(2.4) }),
      metrics({ directionalAccuracy: 0.53, strategy: strategy(2) }),
      comparison,
    );
    const plan = world.reconcile();
    const v2 = versionOf(world, 2);
    expect(v2?.status?.stage).toBe("Staging");
    expect(v2?.status?.championComparison).toMatchObject({
      championVersion: 1,
      strategyComparison: comparison,
    });
    expect(plan.events.find((e) => e.reason === "CandidateAccepted")?.message).toContain(
      "strategy return vs champion v1: +3.00e-6/bar, p 0.1336, effective samples 2811 of 9000 (Newey-West)",
    );
  });
});

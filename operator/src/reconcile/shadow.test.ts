import type { V1Service } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Reading, TrackReadings } from "../analysis/measurement.ts";
import { storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import type { Plan } from "./context.ts";

/*
 * The shadow phase through whole reconciles: what the operator applies and deletes, the status it
 * writes, and stable's Deployment, which must never change while a shadow comes and goes.
 */

const value = (v: number): Reading => ({ value: v });
/** What Prometheus reads for a shadow: its own latency and errors, stable's comparisons with it. */
function shadowReadings(agreeing: number, compared = 800, absDiffSum = 0.4): TrackReadings {
  const none: Reading = { absent: true };
  return {
    feedback: none,
    feedbackHits: none,
    requests: value(compared),
    errors: value(0),
    latencyP95Seconds: value(0.004),
    psiMax: value(0.05),
    strategyOutcomes: none,
    strategyGains: none,
    strategyLosses: none,
    shadowCompared: value(compared),
    shadowSignAgreements: value(agreeing),
    shadowAbsDiffSum: value(absDiffSum),
  };
}

function model(rollout: Record<string, unknown>) {
  return storedModel("spy-momentum.yaml", (raw) => {
    const spec = raw.spec as Record<string, Record<string, unknown>>;
    spec.serving = { replicas: 2 };
    spec.analysis = {
      interval: "10s",
      minSamples: 100,
      failureLimit: 0,
      accuracy: { min: 0.51 },
      latencyP95Ms: { max: 25 },
      signAgreement: { min: 0.9 },
      meanAbsDiff: { max: 0.001 },
    };
    spec.rollout = rollout;
  });
}

const deployment = (world: World, suffix: string) =>
  world.deployments.find((d) => d.metadata?.name === `spy-momentum-${suffix}`);
const reasons = (plan: Plan) => plan.events.map((e) => e.reason);
const stageOf = (world: World, version: number) =>
  world.versions.find((v) => v.spec.version === version)?.status?.stage;

/** The tracks measured since the `from`th measurement, with "+stable" when stable's were compared. */
const asked = (world: World, from = 0) =>
  world.measured.slice(from).map((due) => `${due.candidate.track}${due.stable ? "+stable" : ""}`);

describe("shadow rollout", () => {
  it("mirrors to a full-size shadow that takes no traffic, promotes it on agreement, and never touches stable's pods until then", () => {
    const world = new World(model({ strategy: "Shadow", shadow: { duration: "30s" } }));
    const started = world.startV2();
    const stableTemplate = JSON.stringify(deployment(world, "predictor")?.spec);
    expect(reasons(started)).toContain("RolloutStarted");
    expect(started.status.rollout).toMatchObject({ strategy: "Shadow", shadowPhase: "Running", weight: 0 });
    const shadow = deployment(world, "predictor-shadow");
    expect(shadow?.spec?.replicas).toBe(2);
    const podLabels = shadow?.spec?.template.metadata?.labels ?? {};
    expect(podLabels["trading.mlops.dev/track"]).toBe("shadow");
    expect(podLabels["trading.mlops.dev/traffic"]).toBeUndefined();
    expect(podLabels["trading.mlops.dev/version"]).toBe("v2");
    const service = started.apply.find((o) => o.metadata?.name === "spy-momentum-shadow") as V1Service;
    expect(service.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/track": "shadow",
    });
    const env = deployment(world, "predictor")?.spec?.template.spec?.containers[0]?.env ?? [];
    expect(env).toContainEqual({ name: "SHADOW_URL", value: "http://spy-momentum-shadow:8080" });

    const events: string[] = [];
    for (let i = 0; i < 12 && world.model.status?.rollout?.phase === "Progressing"; i++) {
      events.push(...reasons(world.tick(shadowReadings(780))));
      if (world.model.status?.rollout?.phase !== "Progressing") break;
      expect(JSON.stringify(deployment(world, "predictor")?.spec)).toBe(stableTemplate);
      expect(world.model.status?.canaryWeight ?? 0).toBe(0);
      expect(deployment(world, "predictor-canary")).toBeUndefined();
    }
    // Judged on the shadow's series alone; accuracy waits for live feedback, which a shadow never gets.
    expect(asked(world).length).toBeGreaterThanOrEqual(3);
    expect(new Set(asked(world))).toEqual(new Set(["shadow"]));
    expect(events).toContain("ShadowStarted");
    expect(events).toContain("ShadowPassed");
    const passed = world.model.status?.rollout;
    expect(passed?.analysis?.map((r) => [r.check, r.verdict, r.value])).toEqual([
      ["latencyP95Ms", "Passed", 4],
      ["signAgreement", "Passed", 0.975],
      ["meanAbsDiff", "Passed", 0.0005],
    ]);
    expect(passed?.phase).toBe("Promoting");
    // Promoting: the shadow goes, the stable Deployment moves to v2.
    expect(deployment(world, "predictor-shadow")).toBeUndefined();
    expect(
      deployment(world, "predictor")?.spec?.template.metadata?.labels?.["trading.mlops.dev/version"],
    ).toBe("v2");
    const done = world.tick(shadowReadings(780));
    expect(done.status.rollout).toMatchObject({ phase: "Succeeded", shadowPhase: "Passed" });
    expect(stageOf(world, 2)).toBe("Production");
    expect(stageOf(world, 1)).toBe("Archived");
  });

  it("rejects a disagreeing shadow in numbers: it never took traffic and stable's Deployment never changed", () => {
    const world = new World(model({ strategy: "Shadow", shadow: { duration: "30s" } }));
    world.startV2();
    const stableTemplate = JSON.stringify(deployment(world, "predictor")?.spec);
    let plan = world.tick(shadowReadings(320, 800, 2.4));
    for (let i = 0; i < 5 && plan.status.rollout?.phase === "Progressing"; i++) {
      plan = world.tick(shadowReadings(320, 800, 2.4));
    }
    expect(plan.status.rollout).toMatchObject({ phase: "RolledBack", failures: 1, weight: 0 });
    const message = plan.status.rollout?.message ?? "";
    expect(message).toMatch(/^rolled back v2 at shadow: .*; v1 kept all traffic$/);
    expect(message).toContain("sign agreement with stable 0.4 < 0.9 (320 of 800 mirrored predictions)");
    expect(message).toContain(
      "mean absolute difference from stable 0.003 > 0.001 over 800 mirrored predictions",
    );
    expect(plan.delete).toContainEqual({
      apiVersion: "apps/v1",
      kind: "Deployment",
      name: "spy-momentum-predictor-shadow",
    });
    expect(stageOf(world, 2)).toBe("Rejected");
    expect(world.versions.find((v) => v.spec.version === 2)?.status?.stageHistory?.at(-1)?.message).toContain(
      "sign agreement with stable 0.4 < 0.9",
    );
    expect(JSON.stringify(deployment(world, "predictor")?.spec)).toBe(stableTemplate);
    expect(plan.status.stableVersion).toBe(1);
  });

  it("runs as the first phase of a canary: shadow, then the canary steps judged on live accuracy", () => {
    const world = new World(
      model({ strategy: "Canary", canary: { steps: [50, 100] }, shadow: { duration: "20s" } }),
    );
    const started = world.startV2();
    expect(started.status.rollout).toMatchObject({
      strategy: "Canary",
      shadowPhase: "Running",
      steps: [50, 100],
    });
    for (let i = 0; i < 12 && world.model.status?.rollout?.shadowPhase === "Running"; i++) {
      world.tick(shadowReadings(780));
      if (world.model.status?.rollout?.shadowPhase === "Running")
        expect(deployment(world, "predictor-canary")).toBeUndefined();
    }
    expect(world.last?.events.find((e) => e.reason === "ShadowPassed")?.message).toMatch(
      /^v2 passed its shadow phase after [0-9]+ s \(.*sign agreement with stable 0.975 >= 0.9.*\); next canary at 50%$/,
    );
    // The same reconcile brings the canary up and takes the shadow down.
    expect(deployment(world, "predictor-shadow")).toBeUndefined();
    expect(deployment(world, "predictor-canary")?.spec?.replicas).toBe(2);
    const live: TrackReadings = {
      ...shadowReadings(0),
      feedback: value(400),
      feedbackHits: value(230),
    };
    for (let i = 0; i < 12 && stageOf(world, 2) !== "Production"; i++) world.tick(live);
    expect(stageOf(world, 2)).toBe("Production");
    expect(asked(world)).toContain("canary");
    expect(world.model.status?.rollout?.analysis?.map((r) => r.check)).toEqual(["accuracy", "latencyP95Ms"]);
  });

  it("runs as the first phase of a blue-green: shadow, then the preview at full size, then the switch", () => {
    const world = new World(
      model({ strategy: "BlueGreen", blueGreen: { scaleDownDelaySeconds: 0 }, shadow: { duration: "20s" } }),
    );
    world.startV2();
    for (let i = 0; i < 12 && world.model.status?.rollout?.shadowPhase === "Running"; i++) {
      world.tick(shadowReadings(780));
      if (world.model.status?.rollout?.shadowPhase === "Running")
        expect(deployment(world, "predictor-preview")).toBeUndefined();
    }
    expect(
      world.last?.events.map((e) => e.message).find((m) => m.includes("passed its shadow phase")),
    ).toMatch(/; next blue-green preview$/);
    expect(deployment(world, "predictor-shadow")).toBeUndefined();
    expect(deployment(world, "predictor-preview")?.spec?.replicas).toBe(2);
    const live: TrackReadings = { ...shadowReadings(0), feedback: value(400), feedbackHits: value(230) };
    const previewFrom = world.measured.length;
    for (let i = 0; i < 20 && stageOf(world, 2) !== "Production"; i++) world.tick(live);
    expect(stageOf(world, 2)).toBe("Production");
    expect(new Set(asked(world, previewFrom))).toEqual(new Set(["preview"]));
  });

  it("keeps stable's Deployment as it is when shadow is turned on or off in the spec", () => {
    const world = new World(model({ strategy: "Shadow", shadow: { duration: "1m" } })).serveFirstVersion();
    const before = JSON.stringify(deployment(world, "predictor")?.spec);
    world.editSpec((spec) => {
      spec.rollout = { ...spec.rollout, strategy: "Canary" };
      delete spec.rollout.shadow;
      delete spec.analysis.signAgreement;
      delete spec.analysis.meanAbsDiff;
    });
    world.reconcile();
    expect(JSON.stringify(deployment(world, "predictor")?.spec)).toBe(before);
    world.editSpec((spec) => {
      spec.rollout = { ...spec.rollout, shadow: { duration: "2m" } };
    });
    world.reconcile();
    expect(JSON.stringify(deployment(world, "predictor")?.spec)).toBe(before);
  });

  it("holds a paused shadow phase without measuring, and promotes a shadow on spec.rollout.promoteVersion", () => {
    const world = new World(model({ strategy: "Shadow", shadow: { duration: "5m" } }));
    world.startV2();
    world.tick(shadowReadings(780));
    world.editSpec((spec) => {
      spec.rollout.paused = true;
    });
    world.tick(shadowReadings(780));
    const pausedFrom = world.measured.length;
    for (let i = 0; i < 4; i++) world.tick(shadowReadings(780));
    // Once the status says Paused, nothing is measured.
    expect(asked(world, pausedFrom)).toEqual([]);
    expect(world.model.status?.rollout).toMatchObject({ phase: "Paused", shadowPhase: "Running" });
    expect(deployment(world, "predictor-shadow")).toBeDefined();
    world.editSpec((spec) => {
      spec.rollout.paused = false;
      spec.rollout.promoteVersion = 2;
    });
    const promoting = world.tick(shadowReadings(780));
    expect(promoting.events.map((e) => [e.reason, e.message])).toContainEqual([
      "RolloutPromotedBySpec",
      "v2's shadow phase ended by spec.rollout.promoteVersion; promoting",
    ]);
    world.tick(shadowReadings(780));
    expect(stageOf(world, 2)).toBe("Production");
    expect(world.model.status?.rollout?.phase).toBe("Succeeded");
  });

  it("judges a resumed shadow phase afresh: a whole duration from the resume, with a pass since", () => {
    /** A 30 s shadow phase with one passing measurement, paused, then resumed: the resume's reconcile. */
    const resumed = () => {
      const world = new World(model({ strategy: "Shadow", shadow: { duration: "30s" } }));
      world.startV2();
      world.tick(shadowReadings(780));
      world.tick(shadowReadings(780));
      expect(world.model.status?.rollout?.measurementsInStep).toBe(1);
      world.editSpec((spec) => {
        spec.rollout.paused = true;
      });
      for (let i = 0; i < 3; i++) world.tick(shadowReadings(780));
      world.editSpec((spec) => {
        spec.rollout.paused = false;
      });
      expect(reasons(world.tick(shadowReadings(780)))).toEqual(["RollingOut"]);
      return world;
    };
    const phases = (world: World, readings: TrackReadings, ticks: number) =>
      Array.from({ length: ticks }, () => world.tick(readings).status.rollout?.shadowPhase);
    // Passing measurements: the phase ends 30 s after the resume, not at once for the time before the pause.
    expect(phases(resumed(), shadowReadings(780), 3)).toEqual(["Running", "Running", "Passed"]);
    // No data since the resume: the pass before the pause does not end the phase.
    expect(phases(resumed(), shadowReadings(0, 0), 4)).toEqual(["Running", "Running", "Running", "Running"]);
  });

  it("ends a canary's shadow phase when the spec removes rollout.shadow, and aborts a shadow by spec", () => {
    const world = new World(
      model({ strategy: "Canary", canary: { steps: [50, 100] }, shadow: { duration: "5m" } }),
    );
    world.startV2();
    world.tick(shadowReadings(780));
    world.editSpec((spec) => {
      delete spec.rollout.shadow;
    });
    const ended = world.tick(shadowReadings(780));
    expect(ended.events.map((e) => e.message)).toContain(
      "v2's shadow phase ended: spec.rollout.shadow was removed",
    );
    expect(deployment(world, "predictor-canary")).toBeDefined();

    const aborted = new World(model({ strategy: "Shadow", shadow: { duration: "5m" } }));
    aborted.startV2();
    aborted.tick(shadowReadings(780));
    aborted.editSpec((spec) => {
      spec.rollout.abortVersion = 2;
    });
    const plan = aborted.tick(shadowReadings(780));
    expect(plan.status.rollout?.phase).toBe("Aborted");
    expect(plan.status.rollout?.message).toMatch(/aborted by spec.rollout.abortVersion in shadow/);
    expect(deployment(aborted, "predictor-shadow")).toBeUndefined();
    expect(stageOf(aborted, 2)).toBe("Rejected");
  });
});

import { describe, expect, it } from "vitest";
import type { Reading, TrackReadings } from "../analysis/measurement.ts";
import type { Condition } from "../api/types.ts";
import { OperatorMetrics } from "../controller/metrics.ts";
import { measurementDue, SETTLE_POLL_SECONDS } from "../rollout/machine.ts";
import { metrics, storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import type { Plan } from "./context.ts";

const condition = (plan: Plan, type: string) =>
  plan.status.conditions?.find((c: Condition) => c.type === type);
const reasons = (plan: Plan) => plan.events.map((e) => e.reason);
const stageOf = (world: World, version: number) =>
  world.versions.find((v) => v.spec.version === version)?.status?.stage;
const deployment = (world: World, suffix: string) =>
  world.deployments.find((d) => d.metadata?.name === `spy-momentum-${suffix}`);
const servedBy = (world: World, suffix: string) =>
  deployment(world, suffix)?.spec?.template.metadata?.labels?.["trading.mlops.dev/version"];

/** What a rollback of v2 leaves: its pods deleted in the same reconcile, v1 serving, v2 Rejected. */
function expectRolledBackToV1(world: World, plan: Plan, track: "canary" | "preview") {
  expect(plan.delete).toContainEqual({
    apiVersion: "apps/v1",
    kind: "Deployment",
    name: `spy-momentum-predictor-${track}`,
  });
  expect(servedBy(world, "predictor")).toBe("v1");
  expect(stageOf(world, 2)).toBe("Rejected");
}

const value = (v: number): Reading => ({ value: v });
function readings(over: Partial<TrackReadings> = {}): TrackReadings {
  return {
    feedback: value(1000),
    feedbackHits: value(560),
    requests: value(5000),
    errors: value(5),
    latencyP95Seconds: value(0.004),
    psiMax: value(0.05),
    shadowCompared: value(800),
    shadowSignAgreements: value(760),
    shadowAbsDiffSum: value(0.4),
    strategyOutcomes: value(1000),
    strategyGains: value(1.2),
    strategyLosses: value(0.9),
    ...over,
  };
}

type Spec = World["model"]["spec"];
/** A model edit setting fields of spec.analysis. */
const analysisWith =
  (fields: Partial<Spec["analysis"]>) =>
  (spec: Record<string, unknown>): void => {
    Object.assign(spec.analysis as object, fields);
  };
/** Sets fields of spec.rollout, as a commit to the model's manifest would. */
const setRollout = (world: World, fields: Partial<Spec["rollout"]>) =>
  world.editSpec((spec) => {
    Object.assign(spec.rollout, fields);
  });

/**
 * spy-momentum with the example's checks (accuracy >= 0.51, p95 <= 25 ms, errors <= 1%, PSI <= 0.2),
 * a 10 s interval and fixed replicas; `edit` changes the spec further.
 */
function model(edit: (spec: Record<string, unknown>) => void = () => {}) {
  return storedModel("spy-momentum.yaml", (raw) => {
    const spec = raw.spec as Record<string, Record<string, unknown>>;
    spec.serving = { replicas: 2 };
    spec.analysis = { ...spec.analysis, interval: "10s", minSamples: 100 };
    spec.rollout = { strategy: "Canary", canary: { steps: [5, 25, 50, 100] } };
    edit(raw.spec);
  });
}

/** Reconciles with the pods of the asked split ready, handing over a measurement when one is due. */
const tick = (world: World, measured: Partial<TrackReadings> = readings()): Plan => world.tick(measured);

describe("canary rollout over Replicas", () => {
  it("steps 5 -> 25 -> 50 -> 100 on passing analysis, keeps stable at full size, then promotes v2 and archives v1", () => {
    const world = new World(model());
    const started = world.startV2();
    expect(reasons(started)).toContain("RolloutStarted");
    expect(started.status).toMatchObject({
      candidateVersion: 2,
      stableVersion: 1,
      phase: "Progressing",
      currentStep: 0,
    });
    // 5% with 2 stable pods is one canary pod: 33% is the smallest weight this pod count allows.
    expect(deployment(world, "predictor-canary")?.spec?.replicas).toBe(1);
    expect(deployment(world, "predictor")?.spec?.replicas).toBe(2);
    expect(started.status.rollout).toMatchObject({ minWeight: 33, stableReplicas: 2, candidateReplicas: 1 });

    const shifted = tick(world);
    expect(reasons(shifted)).toEqual(["TrafficShifted"]);
    expect(shifted.status.canaryWeight).toBe(33);

    const seen: number[] = [];
    const events: string[] = [];
    const messages: string[] = [];
    for (let i = 0; i < 30 && stageOf(world, 2) !== "Production"; i++) {
      const plan = tick(world);
      events.push(...reasons(plan));
      messages.push(...plan.events.map((e) => e.message));
      if (plan.status.rollout?.candidateReplicas) seen.push(plan.status.rollout.candidateReplicas);
      expect(deployment(world, "predictor")?.spec?.replicas).toBe(2);
    }
    expect(events.filter((r) => r === "RolloutStepAdvanced")).toHaveLength(3);
    expect(seen).toContain(2); // 50%: two canary pods beside two stable ones
    expect(stageOf(world, 2)).toBe("Production");
    expect(stageOf(world, 1)).toBe("Archived");
    expect(servedBy(world, "predictor")).toBe("v2");
    expect(deployment(world, "predictor-canary")).toBeUndefined();
    const done = world.last as Plan;
    expect(done.status.rollout).toMatchObject({ phase: "Succeeded", version: 2 });
    expect(messages).toContain("v2 promoted: all 2 stable pods run it; v1 archived");
    expect(done.status.candidateVersion).toBeUndefined();
    expect(condition(done, "Progressing")).toMatchObject({ status: "False", reason: "RolloutComplete" });
    expect(done.status.metrics).toMatchObject({
      accuracy: 0.56,
      latencyP95Ms: 4,
      errorRate: 0.001,
      samples: 1000,
    });
    expect(done.status.display).toEqual({ accuracy: "0.56", latencyP95Ms: "4", errorRate: "0.001" });
  });

  it("asks the provider for the configured checks on the canary's series, and stable's only to compare", () => {
    const due = (world: World) => {
      world.startV2();
      for (let i = 0; i < 5 && !measurementDue(world.model, world.now); i++) tick(world);
      return measurementDue(world.model, world.now);
    };
    const canary = { namespace: "trading", model: "spy-momentum", version: "v2", track: "canary" };
    const example = due(new World(model()));
    expect(example).toEqual({
      version: 2,
      window: "1m",
      checks: ["accuracy", "latencyP95Ms", "errorRate", "drift"],
      candidate: canary,
    });
    const comparing = due(new World(model(analysisWith({ accuracyVsStable: { confidence: 0.95 } }))));
    expect(comparing?.checks).toContain("accuracyVsStable");
    expect(comparing?.stable).toEqual({ ...canary, version: "v1", track: "stable" });
  });

  it("rolls back on the first failing measurement with failureLimit 0: canary pods go in the same reconcile, v2 Rejected with the numbers", () => {
    const world = new World(model(analysisWith({ failureLimit: 0 })));
    world.startV2();
    let plan = tick(world);
    for (let i = 0; i < 5 && !plan.status.rollout?.lastAnalysisAt; i++) {
      plan = tick(world, readings({ feedbackHits: value(450) }));
    }
    expect(plan.status.rollout).toMatchObject({ phase: "RolledBack", failures: 1 });
    expectRolledBackToV1(world, plan, "canary");
    const rolledBack = plan.events.find((e) => e.reason === "RolledBack");
    expect(rolledBack?.message).toMatch(/accuracy 0\.45 < 0\.51 over 1000 predictions with feedback/);
    expect(rolledBack?.message).toMatch(/failed \(1\) > failureLimit \(0\)/);
    expect(rolledBack?.alsoOn).toEqual({
      apiVersion: "trading.mlops.dev/v1alpha1",
      kind: "ModelVersion",
      name: "spy-momentum-v2",
    });
    expect(condition(plan, "Degraded")).toMatchObject({ status: "True", reason: "RolledBack" });
    expect(plan.status.phase).toBe("Degraded");
    // Later reconciles keep saying so, and never bring v2 back.
    const later = tick(world);
    expect(condition(later, "Degraded")?.reason).toBe("RolledBack");
    expect(deployment(world, "predictor-canary")).toBeUndefined();
  });

  it.each([
    {
      limit: "failureLimit failed measurements",
      analysis: { failureLimit: 1 },
      measured: readings({ errors: value(250) }),
      outcomes: ["AnalysisFailed", "RolledBack"],
      says: /error rate 0\.05 > 0\.01 \(250 of 5000 requests\)/,
    },
    {
      limit: "noDataLimit measurements with too little data",
      analysis: { noDataLimit: 2 },
      measured: readings({ feedback: value(3), feedbackHits: value(2) }),
      outcomes: ["AnalysisInconclusive", "AnalysisInconclusive", "RolledBack"],
      says: /accuracy: 3 predictions with feedback < minSamples 100/,
    },
  ])(
    "holds the step through $limit, then rolls back on the next",
    ({ analysis, measured, outcomes, says }) => {
      const world = new World(model(analysisWith(analysis)));
      world.startV2();
      const seen: string[] = [];
      for (let i = 0; i < 12 && world.last?.status.rollout?.phase !== "RolledBack"; i++) {
        const plan = tick(world, measured);
        seen.push(
          ...reasons(plan).filter((r) => /^(AnalysisFailed|AnalysisInconclusive|RolledBack)$/.test(r)),
        );
        expect(plan.status.rollout?.stepIndex).toBe(0);
      }
      expect(seen).toEqual(outcomes);
      expect(world.last?.events.find((e) => e.reason === "RolledBack")?.message).toMatch(says);
    },
  );

  it("never passes on an unreachable Prometheus, even with onNoData Pass", () => {
    const world = new World(model(analysisWith({ onNoData: "Pass" })));
    world.startV2();
    const down: Reading = { error: "prometheus http://127.0.0.1:9090: connect ECONNREFUSED" };
    const unreachable = Object.fromEntries(Object.keys(readings()).map((name) => [name, down]));
    for (let i = 0; i < 8; i++) tick(world, unreachable);
    expect(world.last?.status.rollout).toMatchObject({ phase: "Progressing", stepIndex: 0 });
    expect(world.last?.status.rollout?.analysis?.every((r) => r.verdict === "NoData")).toBe(true);
    expect(world.last?.status.rollout?.analysis?.[0]?.message).toContain("ECONNREFUSED");
  });
});

describe("rollout controls in the spec", () => {
  it("pause holds the weight and takes no measurement; resume analyses the step for a whole interval", () => {
    const world = new World(model());
    world.startV2();
    tick(world);
    setRollout(world, { paused: true });
    const paused = tick(world);
    expect(paused.status.rollout?.phase).toBe("Paused");
    expect(condition(paused, "Progressing")).toMatchObject({ status: "True", reason: "RolloutPaused" });
    for (let i = 0; i < 5; i++) {
      expect(measurementDue(world.model, world.now)).toBeUndefined();
      expect(tick(world).status.rollout).toMatchObject({ phase: "Paused", stepIndex: 0 });
    }
    setRollout(world, { paused: false });
    expect(tick(world).status.rollout?.phase).toBe("Progressing");
  });

  it("a rollout paused from its start looks again until its first step's pods are ready, then shows their weight", () => {
    const world = new World(model((spec) => Object.assign(spec.rollout as object, { paused: true })));
    const started = world.startV2();
    expect(started.status.rollout).toMatchObject({ phase: "Paused", weight: 0 });
    // The canary's Deployment exists now and its pods are starting.
    const starting = world.reconcile();
    expect(starting.status.rollout).toMatchObject({ phase: "Paused", weight: 0 });
    expect(starting.requeueAfterSeconds).toBeLessThanOrEqual(SETTLE_POLL_SECONDS);
    world.rolloutCompletes();
    const serving = world.reconcile();
    expect(serving.status.rollout?.phase).toBe("Paused");
    const weight = serving.status.rollout?.weight ?? 0;
    expect(weight).toBeGreaterThan(0);
    expect(serving.requeueAfterSeconds ?? Infinity).toBeGreaterThan(SETTLE_POLL_SECONDS);
    // The message says the weight in effect now; the Event kept the one of the pause's start.
    expect(serving.status.rollout?.message).toBe(`paused by spec.rollout.paused at ${weight}% (step 1/4)`);
    const pausedEvents = (plan: Plan) =>
      plan.events.filter((e) => e.reason === "RolloutPaused").map((e) => e.message);
    expect(pausedEvents(started)).toEqual(["paused by spec.rollout.paused at 0% (step 1/4)"]);
    expect([...pausedEvents(starting), ...pausedEvents(serving)]).toEqual([]);
  });

  it("promoteVersion skips the remaining steps; a stale value for another version does nothing", () => {
    const world = new World(model());
    world.startV2();
    setRollout(world, { promoteVersion: 7 });
    expect(tick(world).status.rollout?.phase).toBe("Progressing");
    setRollout(world, { promoteVersion: 2 });
    const promoting = tick(world);
    expect(reasons(promoting)).toContain("RolloutPromotedBySpec");
    expect(servedBy(world, "predictor")).toBe("v2");
    tick(world);
    expect(stageOf(world, 2)).toBe("Production");
  });

  it("a promotion finishes only once every stable pod runs v2 and is available, counting them meanwhile", () => {
    const world = new World(model());
    world.startV2();
    setRollout(world, { promoteVersion: 2 });
    expect(tick(world).status.rollout?.phase).toBe("Promoting");
    expect(servedBy(world, "predictor")).toBe("v2");
    // Stable's rolling update: both pods on v2's template, one of them available so far.
    world.rolloutCompletes(1);
    const rolling = world.reconcile();
    expect(rolling.status.rollout?.phase).toBe("Promoting");
    expect(rolling.status.rollout?.message).toContain("(1 of its pods on it and ready)");
    expect(stageOf(world, 2)).not.toBe("Production");
    world.rolloutCompletes();
    expect(world.reconcile().status.rollout?.phase).toBe("Succeeded");
    expect(stageOf(world, 2)).toBe("Production");
  });

  it("abortVersion sends all traffic back to stable and keeps v2 as Rejected with reason Aborted, without Degraded", () => {
    const world = new World(model());
    world.startV2();
    tick(world);
    setRollout(world, { abortVersion: 2 });
    const aborted = tick(world);
    expect(aborted.status.rollout?.phase).toBe("Aborted");
    expect(deployment(world, "predictor-canary")).toBeUndefined();
    const mv = world.versions.find((v) => v.spec.version === 2);
    expect(mv?.status?.stageHistory?.at(-1)).toMatchObject({
      stage: "Rejected",
      reason: "Aborted",
      message: "aborted by spec",
    });
    expect(condition(aborted, "Degraded")?.status).toBe("False");
    expect(tick(world).status.rollout?.phase).toBe("Aborted");
  });

  it("rollbackToVersion rolls an archived version out again through the canary, once per value", () => {
    const world = new World(model());
    world.startV2();
    setRollout(world, { promoteVersion: 2 });
    for (let i = 0; i < 4; i++) tick(world);
    expect(stageOf(world, 1)).toBe("Archived");
    setRollout(world, { rollbackToVersion: 1 });
    const started = tick(world);
    expect(reasons(started)).toEqual(expect.arrayContaining(["RolledBackTo", "RolloutStarted"]));
    expect(started.status).toMatchObject({
      candidateVersion: 1,
      stableVersion: 2,
      rollbackToVersionHandled: 1,
    });
    expect(world.jobs.filter((j) => j.metadata?.name === "spy-momentum-train-v3")).toEqual([]);
    for (let i = 0; i < 30 && stageOf(world, 1) !== "Production"; i++) tick(world);
    expect(stageOf(world, 1)).toBe("Production");
    expect(stageOf(world, 2)).toBe("Archived");
    // The field left in place does not start another rollback.
    expect(reasons(tick(world))).not.toContain("RolledBackTo");
  });

  it("an unknown rollbackToVersion is refused in Degraded, naming the field", () => {
    const world = new World(model());
    world.startV2();
    setRollout(world, { rollbackToVersion: 9 });
    const plan = tick(world);
    expect(condition(plan, "Degraded")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(condition(plan, "Degraded")?.message).toContain(
      "spec.rollout.rollbackToVersion 9: no such version is kept",
    );
  });
});

describe("blue-green rollout", () => {
  const blueGreenModel = (autoPromote: boolean) =>
    model((spec) => {
      spec.rollout = { strategy: "BlueGreen", blueGreen: { autoPromote, scaleDownDelaySeconds: 20 } };
      analysisWith({ failureLimit: 0 })(spec);
    });
  const serviceSelector = (plan: Plan, name = "spy-momentum") =>
    plan.apply.find((o) => o.kind === "Service" && o.metadata?.name === name) as
      | { spec?: { selector?: Record<string, string> } }
      | undefined;

  it("previews v2 at full size, switches the Service when the preview analysis passes, keeps v1 up, then promotes", () => {
    const world = new World(blueGreenModel(true));
    const started = world.startV2();
    expect(deployment(world, "predictor-preview")?.spec?.replicas).toBe(2);
    expect(deployment(world, "predictor")?.spec?.replicas).toBe(2);
    expect(serviceSelector(started)?.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/traffic": "live",
    });
    expect(serviceSelector(started, "spy-momentum-preview")?.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/track": "preview",
    });
    // Preview pods are not behind the model's Service.
    expect(
      deployment(world, "predictor-preview")?.spec?.template.metadata?.labels?.["trading.mlops.dev/traffic"],
    ).toBeUndefined();
    let switched: Plan | undefined;
    for (let i = 0; i < 10 && !switched; i++) {
      const plan = tick(world);
      if (plan.status.rollout?.stepIndex === 1) switched = plan;
    }
    expect(serviceSelector(switched as Plan)?.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/track": "preview",
    });
    expect(servedBy(world, "predictor")).toBe("v1"); // kept for an instant way back
    expect(tick(world).status.canaryWeight).toBe(100);
    for (let i = 0; i < 20 && stageOf(world, 2) !== "Production"; i++) tick(world);
    expect(stageOf(world, 2)).toBe("Production");
    expect(servedBy(world, "predictor")).toBe("v2");
    expect(deployment(world, "predictor-preview")).toBeUndefined();
    expect(serviceSelector(world.last as Plan)?.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/traffic": "live",
    });
  });

  it("with autoPromote false waits after the preview analysis until promoteVersion names v2", () => {
    const world = new World(blueGreenModel(false));
    world.startV2();
    for (let i = 0; i < 8; i++) tick(world);
    expect(world.last?.status.rollout).toMatchObject({ phase: "Paused", stepIndex: 0 });
    expect(world.last?.status.rollout?.message).toContain("waiting for spec.rollout.promoteVersion: 2");
    setRollout(world, { promoteVersion: 2 });
    expect(tick(world).status.rollout).toMatchObject({ phase: "Progressing", stepIndex: 1 });
  });

  it("a breach after the switch puts the Service back on v1's pods at once and drops the preview", () => {
    const world = new World(blueGreenModel(true));
    world.startV2();
    for (let i = 0; i < 10 && world.last?.status.rollout?.stepIndex !== 1; i++) tick(world);
    let plan = world.last as Plan;
    for (let i = 0; i < 5 && plan.status.rollout?.phase !== "RolledBack"; i++) {
      plan = tick(world, readings({ latencyP95Seconds: value(0.5) }));
    }
    expect(plan.status.rollout?.phase).toBe("RolledBack");
    expect(serviceSelector(plan)?.spec?.selector).toEqual({
      "trading.mlops.dev/model": "spy-momentum",
      "trading.mlops.dev/traffic": "live",
    });
    expectRolledBackToV1(world, plan, "preview");
    expect(plan.events.find((e) => e.reason === "RolledBack")?.message).toMatch(
      /rolled back v2 at 100% after the switch: p95 latency 500 ms > 25 ms/,
    );
  });
});

describe("autoscaled stable during a canary", () => {
  it("holds the autoscaler's floor at stable's pods from the rollout's start, sizes the canary from them, and releases it after", () => {
    const world = new World(
      model((spec) => {
        spec.serving = { replicas: 2, autoscaling: { minReplicas: 2, maxReplicas: 8 } };
      }),
    );
    world.reconcile();
    world.trainingSucceeds(1);
    world.reconcile();
    world.rolloutCompletes();
    world.reconcile();
    // The autoscaler grew stable to 4 pods under load.
    const stable = deployment(world, "predictor");
    if (stable?.spec) stable.spec.replicas = 4;
    if (stable)
      stable.status = {
        ...stable.status,
        replicas: 4,
        readyReplicas: 4,
        updatedReplicas: 4,
        availableReplicas: 4,
      };
    world.editSpec((spec) => {
      spec.training.retrainRequest = "r2";
    });
    world.reconcile();
    world.trainingSucceeds(2, metrics({ directionalAccuracy: 0.56 }), metrics({ directionalAccuracy: 0.55 }));
    const started = world.reconcile();
    const hpa = (plan: Plan) =>
      plan.apply.find(
        (o) => o.kind === "HorizontalPodAutoscaler" && o.metadata?.name === "spy-momentum-predictor",
      ) as { spec?: { minReplicas?: number } } | undefined;
    const canaryBounds = () => {
      const spec = world.autoscalers.find((a) => a.metadata?.name === "spy-momentum-predictor-canary")?.spec;
      return spec && [spec.minReplicas, spec.maxReplicas];
    };
    expect(started.status.rollout?.stableReplicas).toBe(4);
    // 5% beside 4 stable pods: one canary pod, 20%, created with that count; its own autoscaler
    // between the pods 5% asks for beside stable's 4 and beside stable's maximum of 8.
    expect(deployment(world, "predictor-canary")?.spec?.replicas).toBe(1);
    expect(started.create.map((o) => o.metadata?.name)).toContain("spy-momentum-predictor-canary");
    expect(canaryBounds()).toEqual([1, 1]);
    const during = world.reconcile();
    expect(hpa(during)?.spec?.minReplicas).toBe(4);
    for (let i = 0; i < 10 && world.model.status?.rollout?.desiredWeight !== 25; i++) tick(world);
    expect(canaryBounds()).toEqual([1, 3]);
    // The canary's autoscaler grows it to 2 pods under load: the operator counts them and never
    // sends a count of its own for it.
    const canary = deployment(world, "predictor-canary");
    if (canary?.spec) canary.spec.replicas = 2;
    world.rolloutCompletes();
    const scaled = world.reconcile();
    expect(scaled.status.rollout).toMatchObject({ desiredWeight: 25, candidateReplicas: 2, weight: 33 });
    const applied = scaled.apply.filter((o) => o.kind === "Deployment") as { spec?: { replicas?: number } }[];
    expect(applied.map((d) => d.spec?.replicas)).toEqual([undefined, undefined]);
    setRollout(world, { abortVersion: 2 });
    // The abort deletes the canary's autoscaler before its Deployment, in the same reconcile.
    expect(
      world
        .reconcile()
        .delete.map((r) => `${r.kind}/${r.name}`)
        .filter((r) => r.includes("canary")),
    ).toEqual([
      "HorizontalPodAutoscaler/spy-momentum-predictor-canary",
      "Deployment/spy-momentum-predictor-canary",
    ]);
    expect(hpa(world.reconcile())?.spec?.minReplicas).toBe(2);
    expect(deployment(world, "predictor-canary")).toBeUndefined();
    expect(world.autoscalers.map((a) => a.metadata?.name)).toEqual(["spy-momentum-predictor"]);
  });
});

describe("autoscaling added to a model serving a fixed count, and dropped again", () => {
  const AUTOSCALING = { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 };
  const owners = (world: World, suffix: string) =>
    (deployment(world, suffix)?.metadata?.managedFields ?? []).map((f) => `${f.manager}/${f.operation}`);
  const handedOver = (plan: Plan) =>
    plan.handover.map((o) => [o.metadata?.name, (o as { spec?: { replicas?: number } }).spec?.replicas]);

  it("hands stable's count over before the first apply without it, once, so stable keeps its pods", () => {
    const world = new World(
      model((spec) => {
        spec.serving = { replicas: 3 };
      }),
    );
    world.serveFirstVersion();
    expect(owners(world, "predictor")).toEqual(["tradingmodel-operator/Apply"]);
    world.editSpec((spec) => {
      spec.serving = { ...spec.serving, autoscaling: AUTOSCALING };
    });
    const added = world.reconcile();
    expect(handedOver(added)).toEqual([["spy-momentum-predictor", 3]]);
    // Still 3 pods (without the handover the apply would remove the count: one pod), left to the HPA.
    expect(deployment(world, "predictor")?.spec?.replicas).toBe(3);
    expect(owners(world, "predictor")).toEqual(["tradingmodel-operator-replicas-handover/Apply"]);
    expect(world.autoscalers.map((a) => a.metadata?.name)).toEqual(["spy-momentum-predictor"]);
    expect(world.reconcile().handover).toEqual([]);
    // Dropped again with another count: the operator's apply takes the count back (force).
    world.editSpec((spec) => {
      spec.serving = { replicas: 4, resources: spec.serving.resources };
    });
    const dropped = world.reconcile();
    expect(dropped.handover).toEqual([]);
    expect(deployment(world, "predictor")?.spec?.replicas).toBe(4);
    expect(owners(world, "predictor")).toEqual(["tradingmodel-operator/Apply"]);
    expect(world.autoscalers).toEqual([]);
  });

  it("hands a canary's count over too when autoscaling comes during its rollout", () => {
    const world = new World(model());
    world.startV2();
    tick(world);
    const counts = () => [
      deployment(world, "predictor")?.spec?.replicas,
      deployment(world, "predictor-canary")?.spec?.replicas,
    ];
    expect(counts()).toEqual([2, 1]);
    world.editSpec((spec) => {
      spec.serving = { ...spec.serving, autoscaling: AUTOSCALING };
    });
    const added = tick(world);
    expect(handedOver(added)).toEqual([
      ["spy-momentum-predictor", 2],
      ["spy-momentum-predictor-canary", 1],
    ]);
    expect(counts()).toEqual([2, 1]);
    expect(tick(world).handover).toEqual([]);
  });
});

describe("rollouts counted in the operator's metrics", () => {
  /** Reconciles like `tick`, handing each status change to the counters as the reconciler does. */
  function countedTick(world: World, counters: OperatorMetrics, measured?: Partial<TrackReadings>): Plan {
    const before = world.model.status?.rollout;
    const plan = tick(world, measured);
    counters.recordRolloutTransition(
      { namespace: "trading", name: "spy-momentum" },
      before,
      plan.status.rollout,
    );
    return plan;
  }
  const series = async (counters: OperatorMetrics) =>
    (await counters.registry.metrics())
      .split("\n")
      .filter((l) => l.startsWith("tradingmodel_rollouts_"))
      .map((l) => l.replace('namespace="trading",model="spy-momentum"', "…"));

  it("one start and one promotion for v2, one start and one rollback by AnalysisFailed for v3, none for idle reconciles", async () => {
    const counters = new OperatorMetrics();
    const world = new World(model());
    world.startV2();
    counters.recordRolloutTransition(
      { namespace: "trading", name: "spy-momentum" },
      undefined,
      world.model.status?.rollout,
    );
    for (let i = 0; i < 30 && stageOf(world, 2) !== "Production"; i++) countedTick(world, counters);
    for (let i = 0; i < 3; i++) countedTick(world, counters);
    world.editSpec((spec) => {
      spec.training.retrainRequest = "r3";
    });
    countedTick(world, counters);
    world.trainingSucceeds(3, metrics({ directionalAccuracy: 0.57 }), metrics({ directionalAccuracy: 0.56 }));
    countedTick(world, counters);
    const failing = readings({ latencyP95Seconds: value(0.4) });
    for (let i = 0; i < 10 && world.model.status?.rollout?.phase !== "RolledBack"; i++)
      countedTick(world, counters, failing);
    for (let i = 0; i < 3; i++) countedTick(world, counters);
    expect(world.model.status?.rollout).toMatchObject({ version: 3, phase: "RolledBack" });
    expect(await series(counters)).toEqual([
      'tradingmodel_rollouts_started_total{…,strategy="Canary"} 2',
      "tradingmodel_rollouts_promoted_total{…} 1",
      'tradingmodel_rollouts_rolled_back_total{…,reason="AnalysisFailed"} 1',
    ]);
  });

  it("an abort by spec counts as a rollback with reason RolloutAborted", async () => {
    const counters = new OperatorMetrics();
    const world = new World(model());
    world.startV2();
    countedTick(world, counters);
    setRollout(world, { abortVersion: 2 });
    countedTick(world, counters);
    countedTick(world, counters);
    expect(await series(counters)).toContain(
      'tradingmodel_rollouts_rolled_back_total{…,reason="RolloutAborted"} 1',
    );
  });
});

import type { V1Deployment, V1Job } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Condition } from "../api/types.ts";
import { metrics, storedModel } from "../testing/fixtures.ts";
import { World } from "../testing/world.ts";
import type { Plan } from "./context.ts";

const condition = (plan: Plan, type: string) =>
  plan.status.conditions?.find((c: Condition) => c.type === type);
const reasons = (plan: Plan) => plan.events.map((e) => e.reason);
const stageOf = (world: World, version: number) =>
  world.versions.find((v) => v.spec.version === version)?.status?.stage;
const servedVersion = (world: World) =>
  world.deployments[0]?.spec?.template.metadata?.labels?.["trading.mlops.dev/version"];

/** A world where v1 trained, passed the gate and is served. */
function servingV1(): World {
  const world = new World(storedModel("mean-reversion-bluegreen.yaml"));
  world.reconcile();
  world.trainingSucceeds(1);
  world.reconcile();
  world.rolloutCompletes();
  world.reconcile();
  return world;
}

describe("reconcile: the first version", () => {
  it("starts training v1 in a Job with the trainer's ServiceAccount and Role, and says so", () => {
    const world = new World(storedModel());
    const plan = world.reconcile();
    expect(plan.create.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(["Job/spy-momentum-train-v1"]);
    expect(plan.apply.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      "ServiceAccount/spy-momentum-trainer",
      "RoleBinding/spy-momentum-trainer",
      "Role/spy-momentum-trainer",
    ]);
    expect(plan.status).toMatchObject({
      phase: "Training",
      latestVersion: 1,
      lastTrainedGeneration: 1,
      observedGeneration: 1,
    });
    expect(condition(plan, "Training")).toMatchObject({ status: "True", reason: "TrainingStarted" });
    expect(plan.events).toEqual([
      {
        type: "Normal",
        reason: "TrainingStarted",
        message: "training v1 in Job spy-momentum-train-v1 (first version)",
      },
    ]);
    expect(plan.requeueAfterSeconds).toBeGreaterThan(0);
  });

  it("follows the running Job without starting another or repeating the event", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingRuns(1);
    const plan = world.reconcile();
    expect(plan.create).toEqual([]);
    expect(plan.events).toEqual([]);
    expect(condition(plan, "Training")).toMatchObject({ status: "True", reason: "TrainingRunning" });
    expect(plan.status.training).toMatchObject({
      version: 1,
      state: "Running",
      jobName: "spy-momentum-train-v1",
    });
  });

  it("registers the trained version with its metrics, passes the gate with the numbers, and rolls it out", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingSucceeds(1, metrics({ r2: 0.0123, directionalAccuracy: 0.534 }));
    const plan = world.reconcile();
    expect(plan.create.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual([
      "ModelVersion/spy-momentum-v1",
      "Deployment/spy-momentum-predictor",
    ]);
    // Autoscaled: created with the spec's starting count, which later applies leave to the HPA.
    const created = plan.create.find((o) => o.kind === "Deployment") as V1Deployment;
    expect(created.spec?.replicas).toBe(2);
    expect(plan.apply.some((o) => o.kind === "Deployment")).toBe(false);
    expect(stageOf(world, 1)).toBe("Staging");
    expect(world.versions[0]?.status?.metrics?.directionalAccuracy).toBe(0.534);
    const accepted = plan.events.find((e) => e.reason === "CandidateAccepted");
    expect(accepted?.message).toBe(
      "v1 passed: R² 0.0123 >= 0.0000 (minR2); directional accuracy 0.5340 >= 0.5200 (minDirectionalAccuracy); Sharpe after costs 2.5000 >= 0.0000 (minSharpe); no champion to compare with",
    );
    expect(plan.apply.map((o) => o.kind)).toEqual(
      expect.arrayContaining(["Service", "HorizontalPodAutoscaler"]),
    );
    const next = world.reconcile();
    const applied = next.apply.find((o) => o.kind === "Deployment") as V1Deployment;
    expect(applied.spec?.replicas).toBeUndefined();
    expect(next.create.filter((o) => o.kind === "Deployment")).toEqual([]);
    expect(plan.status).toMatchObject({ phase: "Progressing", candidateVersion: 1 });
    expect(condition(plan, "Ready")).toMatchObject({ status: "False", reason: "NoVersionServing" });
  });

  it("promotes v1 to Production once its pods are available, and reports Ready", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingSucceeds(1);
    world.reconcile();
    world.rolloutCompletes();
    const plan = world.reconcile();
    expect(stageOf(world, 1)).toBe("Production");
    expect(reasons(plan)).toEqual(["VersionPromoted"]);
    expect(plan.status).toMatchObject({
      phase: "Ready",
      stableVersion: 1,
      message: "v1 serving: 2/2 pods available",
    });
    expect(plan.status.candidateVersion).toBeUndefined();
    expect(condition(plan, "Progressing")).toMatchObject({ status: "False", reason: "RolloutComplete" });
    expect(world.reconcile().events).toEqual([]);
  });

  it("fails with nothing served when the first version is rejected", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingSucceeds(1, metrics({ directionalAccuracy: 0.49 }));
    const plan = world.reconcile();
    expect(stageOf(world, 1)).toBe("Rejected");
    expect(plan.apply.some((o) => o.kind === "Deployment")).toBe(false);
    expect(plan.status.phase).toBe("Failed");
    expect(condition(plan, "Degraded")).toMatchObject({ status: "True", reason: "CandidateRejected" });
    expect(plan.events.find((e) => e.reason === "CandidateRejected")).toMatchObject({
      type: "Warning",
      alsoOn: { kind: "ModelVersion", name: "spy-momentum-v1" },
    });
  });
});

describe("reconcile: stale caches and collected Jobs", () => {
  it("plans the missing Job of the version in training again, never a second version", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.jobs = []; // deleted, or not delivered by the informer yet (creating it again is then a no-op)
    const plan = world.reconcile();
    expect(plan.create.map((o) => `${o.kind}/${o.metadata?.name}`)).toEqual(["Job/spy-momentum-train-v1"]);
    expect(plan.status.latestVersion).toBe(1);
    expect(plan.events).toEqual([]);
    expect(condition(plan, "Training")).toMatchObject({ status: "True", reason: "TrainingPending" });
    expect(condition(plan, "Training")?.message).toContain("creating it again");
  });

  it("registers a version whose Job was garbage-collected before the operator saw it finish", () => {
    const world = servingV1();
    world.editSpec((spec) => {
      spec.training.retrainRequest = "while-away";
    });
    world.reconcile();
    world.trainingSucceeds(2, metrics({ directionalAccuracy: 0.54 }));
    world.jobs = []; // ttlSecondsAfterFinished passed while the operator was down
    world.pods = [];
    const plan = world.reconcile();
    expect(plan.create.map((o) => o.metadata?.name)).toEqual(["mean-reversion-v2"]);
    expect(stageOf(world, 2)).toBe("Staging");
    expect(world.versions.find((v) => v.spec.version === 2)?.spec.parentVersion).toBe(1);
    expect(plan.events.find((e) => e.reason === "CandidateAccepted")?.message).toContain(
      "champion v1 on its own holdout",
    );
  });
});

describe("reconcile: later versions", () => {
  it("trains v2 against the stable v1 when the training spec changes, but not when only serving changes", () => {
    const world = servingV1();
    world.editSpec((spec) => {
      spec.serving.replicas = 3;
    });
    expect(world.reconcile().create).toEqual([]);
    world.editSpec((spec) => {
      spec.features = [...spec.features, "vol_20"];
    });
    const plan = world.reconcile();
    const job = plan.create[0] as V1Job;
    expect(job.metadata?.name).toBe("mean-reversion-train-v2");
    expect(job.spec?.template.spec?.initContainers?.[0]?.args?.slice(-2)).toEqual([
      "--champion",
      "/champion/artifact.json",
    ]);
    expect(plan.events[0]?.message).toBe(
      "training v2 in Job mean-reversion-train-v2 (training inputs changed at generation 3, champion v1)",
    );
    expect(plan.status).toMatchObject({ phase: "Training", stableVersion: 1, lastTrainedGeneration: 3 });
  });

  it("rejects a v2 worse than v1 on the same holdout; v1 keeps serving untouched", () => {
    const world = servingV1();
    const v1Deployment = structuredClone(world.deployments[0]) as V1Deployment;
    world.editSpec((spec) => {
      spec.training.holdoutFraction = 0.3;
    });
    world.reconcile();
    world.trainingSucceeds(
      2,
      metrics({ r2: 0.004, directionalAccuracy: 0.525 }),
      metrics({ r2: 0.011, directionalAccuracy: 0.531 }),
    );
    const plan = world.reconcile();
    expect(stageOf(world, 2)).toBe("Rejected");
    expect(stageOf(world, 1)).toBe("Production");
    const rejected = plan.events.find((e) => e.reason === "CandidateRejected");
    expect(rejected?.message).toContain("R² 0.0040 < 0.0060 (champion v1 on same holdout - tolerance 0.005)");
    expect(rejected?.message).toContain(
      "directional accuracy 0.5250 < 0.5260 (champion v1 on same holdout - tolerance 0.005)",
    );
    expect(world.deployments[0]?.spec).toEqual(v1Deployment.spec);
    expect(plan.status).toMatchObject({ phase: "Degraded", stableVersion: 1 });
    expect(world.versions.find((v) => v.spec.version === 2)?.spec.parentVersion).toBe(1);
  });

  it("stops a Job whose inputs are outdated and trains the new inputs instead", () => {
    const world = servingV1();
    world.editSpec((spec) => {
      spec.training.retrainRequest = "a";
    });
    world.reconcile();
    world.trainingRuns(2);
    world.editSpec((spec) => {
      spec.training.retrainRequest = "b";
    });
    const plan = world.reconcile();
    expect(plan.delete).toContainEqual({
      apiVersion: "batch/v1",
      kind: "Job",
      name: "mean-reversion-train-v2",
    });
    expect(plan.create.map((o) => o.metadata?.name)).toEqual(["mean-reversion-train-v3"]);
    expect(reasons(plan)).toEqual(["TrainingSuperseded", "TrainingStarted"]);
  });
});

describe("reconcile: stored status", () => {
  it("keeps lastScheduleTime (and every other stored field) across reconciles that change nothing", () => {
    const world = servingV1();
    const stored = { ...world.model.status, lastScheduleTime: "2026-11-23T21:30:00.000Z" };
    world.model = { ...world.model, status: stored };
    const plan = world.reconcile();
    expect(plan.status.lastScheduleTime).toBe("2026-11-23T21:30:00.000Z");
    expect(world.reconcile().status.lastScheduleTime).toBe("2026-11-23T21:30:00.000Z");
  });
});

describe("reconcile: schedule", () => {
  it("retrains when the schedule fires in its time zone, once, and requeues for the next firing", () => {
    const world = new World(storedModel()); // 30 21 * * 1-5, America/New_York
    world.reconcile();
    world.trainingSucceeds(1);
    world.reconcile();
    world.rolloutCompletes();
    const ready = world.reconcile(); // at 10:00:20Z; next firing 21:30 New York = 02:30Z
    expect(ready.requeueAfterSeconds).toBe(16 * 3600 + 29 * 60 + 40);
    world.now = new Date("2026-11-25T02:30:05Z");
    const plan = world.reconcile();
    expect(plan.create.map((o) => o.metadata?.name)).toEqual(["spy-momentum-train-v2"]);
    expect(plan.events[0]?.message).toBe(
      'training v2 in Job spy-momentum-train-v2 (schedule "30 21 * * 1-5" in America/New_York, champion v1)',
    );
    expect(plan.status.lastScheduleTime).toBe("2026-11-25T02:30:05.000Z");
    world.trainingSucceeds(2);
    // v2 registered, and its shadow (autoscaled) created with its first count; no second Job.
    expect(world.reconcile().create.map((o) => o.metadata?.name)).toEqual([
      "spy-momentum-v2",
      "spy-momentum-predictor-shadow",
    ]);
  });
});

describe("reconcile: failures", () => {
  it("surfaces the trainer's own message once, with a reason per exit code, and keeps serving", () => {
    const world = servingV1();
    world.editSpec((spec) => {
      spec.training.data = { url: "https://data.invalid/bars.csv" };
    });
    world.reconcile();
    world.trainingFails(
      2,
      3,
      "url https://data.invalid/bars.csv: getaddrinfo ENOTFOUND data.invalid (after 4 attempts)",
    );
    const plan = world.reconcile();
    const degraded = condition(plan, "Degraded");
    expect(degraded).toMatchObject({ status: "True", reason: "DataSourceUnavailable" });
    expect(degraded?.message).toBe(
      "training v2 failed: train exited 3: url https://data.invalid/bars.csv: getaddrinfo ENOTFOUND data.invalid (after 4 attempts); the served version is unchanged",
    );
    expect(plan.events).toEqual([
      expect.objectContaining({ type: "Warning", reason: "DataSourceUnavailable" }),
    ]);
    expect(plan.status).toMatchObject({ phase: "Degraded", stableVersion: 1 });
    expect(servedVersion(world)).toBe("v1");
    const again = world.reconcile();
    expect(again.events).toEqual([]);
    expect(again.create).toEqual([]);
  });

  it("names bad data as invalid training input (exit 2)", () => {
    const world = new World(storedModel());
    world.reconcile();
    world.trainingFails(1, 2, "data (synthetic seed 42): row 17 column close: NaN");
    const plan = world.reconcile();
    expect(condition(plan, "Degraded")).toMatchObject({ reason: "InvalidTrainingInput" });
    expect(plan.status.phase).toBe("Failed");
  });

  it("starts no Job for a spec the trainer would refuse, naming the field", () => {
    const world = new World(
      storedModel("spy-momentum.yaml", (raw) => {
        raw.spec.features = ["ret_1", "vol_1"];
      }),
    );
    const plan = world.reconcile();
    expect(plan.create).toEqual([]);
    expect(condition(plan, "Degraded")?.reason).toBe("InvalidSpec");
    expect(condition(plan, "Degraded")?.message).toMatch(
      /spec\.features\[1\]: feature "vol_1": n must be >= 2/,
    );
    expect(plan.status.phase).toBe("Failed");
  });

  it("names an invalid spec in Degraded even while a rejected candidate also holds", () => {
    const world = servingV1();
    world.editSpec((spec) => {
      spec.training.retrainRequest = "r1";
    });
    world.reconcile();
    world.trainingSucceeds(2, metrics({ directionalAccuracy: 0.48 }), metrics());
    expect(condition(world.reconcile(), "Degraded")?.reason).toBe("CandidateRejected");
    world.editSpec((spec) => {
      spec.features = ["ret_1", "vol_1"];
    });
    const plan = world.reconcile();
    expect(condition(plan, "Degraded")).toMatchObject({ status: "True", reason: "InvalidSpec" });
    expect(condition(plan, "Degraded")?.message).toMatch(/n must be >= 2 .*\(also: CandidateRejected\)$/);
  });

  it("reports a stable version without available pods as unavailable", () => {
    const world = servingV1();
    world.rolloutCompletes(0);
    const plan = world.reconcile();
    expect(condition(plan, "Ready")).toMatchObject({ status: "False", reason: "PredictorUnavailable" });
    expect(plan.status.phase).toBe("Failed");
  });
});

describe("reconcile: retention", () => {
  it("keeps the newest versionHistoryLimit versions and the stable one, deleting older ones with their artifacts", () => {
    const world = servingV1(); // versionHistoryLimit 3
    for (let v = 2; v <= 5; v++) {
      world.editSpec((spec) => {
        spec.training.retrainRequest = `r${v}`;
      });
      world.reconcile();
      world.trainingSucceeds(v, metrics({ directionalAccuracy: 0.4 }));
      world.reconcile();
    }
    expect(world.versions.map((v) => v.spec.version).sort()).toEqual([1, 3, 4, 5]);
    expect(world.artifacts.map((a) => a.version).sort()).toEqual([1, 3, 4, 5]);
    expect(stageOf(world, 1)).toBe("Production");
    const pruned = world.last?.events.find((e) => e.reason === "VersionsPruned");
    expect(pruned?.message).toBe("deleted v2 and their artifacts (versionHistoryLimit 3)");
  });
});

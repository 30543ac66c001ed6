import type { KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { TradingModel } from "../api/types.ts";
import { metrics, storedModel } from "../testing/fixtures.ts";
import { settings, World } from "../testing/world.ts";
import { EventRecorder } from "./events.ts";
import { FakeCluster } from "./fake-cluster.ts";
import { actionOf, eventTargets, Reconciler } from "./reconciler.ts";

const log = pino({ level: "silent" });
const now = new Date("2026-11-24T10:00:00Z");
const KEY = "trading/spy-momentum";

function setup(model: TradingModel = storedModel()) {
  const cluster = new FakeCluster();
  cluster.seed(model as unknown as KubernetesObject);
  const recorder = new EventRecorder(cluster, {
    controller: "trading.mlops.dev/tradingmodel-operator",
    instance: "op-0",
    aggregationWindowMs: 600_000,
    maxRemembered: 100,
  });
  return { cluster, reconciler: new Reconciler(cluster, cluster, recorder, settings, log) };
}

const statusOf = (cluster: FakeCluster) =>
  (cluster.stored.get("TradingModel/trading/spy-momentum") as unknown as TradingModel).status;

describe("Reconciler", () => {
  it("applies the trainer's RBAC, creates the Job, writes the status once and only then emits the event", async () => {
    const { cluster, reconciler } = setup();
    const result = await reconciler.reconcile(KEY, now);
    expect(cluster.calls).toEqual([
      "apply ServiceAccount/spy-momentum-trainer",
      "apply Role/spy-momentum-trainer",
      "apply RoleBinding/spy-momentum-trainer",
      "create Job/spy-momentum-train-v1",
      "status TradingModel/spy-momentum",
      "event TrainingStarted",
    ]);
    expect(result).toMatchObject({ statusWritten: true, eventsEmitted: 1 });
    // The decision's 15 s, less the time this reconcile took.
    expect(result.requeueAfterMs).toBeGreaterThan(14_000);
    expect(result.requeueAfterMs).toBeLessThanOrEqual(15_000);
    expect(statusOf(cluster)).toMatchObject({ phase: "Training", observedGeneration: 1, latestVersion: 1 });
    const job = cluster.stored.get("Job/trading/spy-momentum-train-v1");
    expect(job?.metadata?.ownerReferences?.[0]).toMatchObject({ kind: "TradingModel", controller: true });
    expect(cluster.events[0]).toMatchObject({
      reason: "TrainingStarted",
      action: "Train",
      type: "Normal",
      note: "training v1 in Job spy-momentum-train-v1 (first version)",
      regarding: {
        kind: "TradingModel",
        name: "spy-momentum",
        namespace: "trading",
        uid: storedModel().metadata.uid,
      },
      reportingController: "trading.mlops.dev/tradingmodel-operator",
    });
  });

  it("waits for the caches to show its own writes instead of deciding again from stale ones", async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile(KEY, now);
    cluster.calls.length = 0;
    expect(await reconciler.reconcile(KEY, now)).toEqual({
      statusWritten: false,
      eventsEmitted: 0,
      requeueAfterMs: 500,
    });
    expect(cluster.calls).toEqual([]);
    cluster.sync();
    const again = await reconciler.reconcile(KEY, now);
    expect(cluster.calls.filter((c) => c.startsWith("create") || c.startsWith("event"))).toEqual([]);
    expect(again.eventsEmitted).toBe(0);
  });

  it("writes no status when it did not change", async () => {
    const { cluster, reconciler } = setup();
    await reconciler.reconcile(KEY, now);
    cluster.sync();
    await reconciler.reconcile(KEY, now);
    cluster.sync();
    cluster.calls.length = 0;
    const result = await reconciler.reconcile(KEY, now);
    expect(result.statusWritten).toBe(false);
    expect(cluster.calls.filter((c) => c.startsWith("status"))).toEqual([]);
  });

  it("on a refused write, marks the model Degraded with the apiserver's message, emits nothing and fails for a retry", async () => {
    const { cluster, reconciler } = setup();
    cluster.fail(
      "create Job",
      422,
      'Job.batch "spy-momentum-train-v1" is invalid: spec.template: Invalid value',
    );
    await expect(reconciler.reconcile(KEY, now)).rejects.toThrow(
      /creating Job spy-momentum-train-v1: HTTP 422: Job.batch "spy-momentum-train-v1" is invalid/,
    );
    expect(cluster.calls.some((c) => c.startsWith("event"))).toBe(false);
    const degraded = statusOf(cluster)?.conditions?.find((c) => c.type === "Degraded");
    expect(degraded).toMatchObject({ status: "True", reason: "ReconcileFailed" });
    expect(degraded?.message).toContain("HTTP 422");
  });

  it("after a refused Job create, keeps saying why in Degraded and creates the Job once the API allows it", async () => {
    const { cluster, reconciler } = setup();
    const quota =
      'jobs.batch "spy-momentum-train-v1" is forbidden: exceeded quota: compute, requested: cpu=2, used: cpu=3, limited: cpu=4';
    cluster.fail("create Job", 403, quota);
    for (let attempt = 0; attempt < 3; attempt++) {
      await expect(reconciler.reconcile(KEY, now)).rejects.toThrow(/HTTP 403/);
      cluster.sync();
      const status = statusOf(cluster);
      // Nothing claims a training that never started; the next reconcile plans the Job again.
      expect(status?.training).toBeUndefined();
      expect(status?.latestVersion).toBeUndefined();
      expect(status?.conditions?.find((c) => c.type === "Degraded")).toMatchObject({
        status: "True",
        reason: "ReconcileFailed",
        message: expect.stringContaining("exceeded quota: compute"),
      });
    }
    expect(cluster.calls.filter((c) => c === "create Job/spy-momentum-train-v1")).toHaveLength(3);
    cluster.failures.clear();
    await reconciler.reconcile(KEY, now);
    cluster.sync();
    expect(cluster.stored.has("Job/trading/spy-momentum-train-v1")).toBe(true);
    expect(statusOf(cluster)).toMatchObject({ phase: "Training", latestVersion: 1 });
    expect(statusOf(cluster)?.conditions?.find((c) => c.type === "Degraded")?.status).toBe("False");
  });

  it("records an event about a version on the TradingModel and on its ModelVersion", () => {
    const { cluster } = setup();
    const model = storedModel();
    cluster.seed({
      apiVersion: "trading.mlops.dev/v1alpha1",
      kind: "ModelVersion",
      metadata: { name: "spy-momentum-v2", namespace: "trading", uid: "mv-2" },
    });
    cluster.sync();
    const mv = { apiVersion: "trading.mlops.dev/v1alpha1", kind: "ModelVersion", name: "spy-momentum-v2" };
    const targets = eventTargets(
      model,
      { type: "Warning", reason: "CandidateRejected", message: "", alsoOn: mv },
      cluster,
    );
    expect(targets).toEqual([
      {
        apiVersion: "trading.mlops.dev/v1alpha1",
        kind: "TradingModel",
        name: "spy-momentum",
        uid: model.metadata.uid,
      },
      { ...mv, uid: "mv-2" },
    ]);
    expect(
      eventTargets(model, { type: "Normal", reason: "TrainingStarted", message: "" }, cluster),
    ).toHaveLength(1);
  });

  it("emits no event when the status write fails", async () => {
    const { cluster, reconciler } = setup();
    cluster.fail("status TradingModel", 503, "etcdserver: request timed out");
    await expect(reconciler.reconcile(KEY, now)).rejects.toThrow(/etcdserver/);
    expect(cluster.calls.some((c) => c.startsWith("event"))).toBe(false);
  });

  it("does nothing for a model that is gone or being deleted (the garbage collector removes its children)", async () => {
    const { cluster, reconciler } = setup();
    expect(await reconciler.reconcile("trading/other", now)).toEqual({
      statusWritten: false,
      eventsEmitted: 0,
    });
    const deleting = storedModel();
    deleting.metadata.deletionTimestamp = now.toISOString();
    const second = setup(deleting);
    await second.reconciler.reconcile(KEY, now);
    expect([...cluster.calls, ...second.cluster.calls]).toEqual([]);
  });

  it("names an event's action by the family of its reason", () => {
    expect(
      [
        "TrainingStarted",
        "CandidateRejected",
        "VersionPromoted",
        "VersionsPruned",
        "InvalidSpec",
        "Other",
      ].map(actionOf),
    ).toEqual(["Train", "Gate", "Rollout", "Prune", "Validate", "Reconcile"]);
  });
});

describe("Reconciler counting rollouts", () => {
  it("hands the rollout status before and after to the counters once per status write, never for a failed write", async () => {
    const cluster = new FakeCluster();
    cluster.seed(storedModel() as unknown as KubernetesObject);
    const recorder = new EventRecorder(cluster, {
      controller: "trading.mlops.dev/tradingmodel-operator",
      instance: "op-0",
      aggregationWindowMs: 600_000,
      maxRemembered: 100,
    });
    const transitions: unknown[] = [];
    const reconciler = new Reconciler(cluster, cluster, recorder, settings, log, undefined, {
      recordRolloutTransition: (ref, before, after) => transitions.push([ref.name, before, after]),
    });
    cluster.fail("status TradingModel", 503, "etcdserver: request timed out");
    await expect(reconciler.reconcile(KEY, now)).rejects.toThrow(/etcdserver/);
    expect(transitions).toEqual([]);
    cluster.failures.clear();
    cluster.sync();
    await reconciler.reconcile(KEY, now);
    expect(transitions).toEqual([["spy-momentum", undefined, undefined]]);
    cluster.sync();
    await reconciler.reconcile(KEY, now);
    expect(transitions).toHaveLength(1);
  });
});

describe("Reconciler with an autoscaled canary", () => {
  /** The cluster of a model whose v2 canary runs at 25% beside 4 autoscaled stable pods, as a World left it. */
  function midCanary() {
    const world = new World(
      storedModel("spy-momentum.yaml", (raw) => {
        const spec = raw.spec as Record<string, unknown>;
        spec.serving = { replicas: 4, autoscaling: { minReplicas: 2, maxReplicas: 8 } };
        spec.rollout = { strategy: "Canary", canary: { steps: [25, 50, 100] } };
        spec.analysis = { interval: "10s" };
      }),
    );
    world.serveFirstVersion();
    world.editSpec((spec) => {
      spec.training.retrainRequest = "r2";
    });
    world.reconcile();
    world.trainingSucceeds(2, metrics({ directionalAccuracy: 0.56 }), metrics({ directionalAccuracy: 0.55 }));
    world.reconcile();
    world.rolloutCompletes();
    const { cluster, reconciler } = setup(world.model);
    for (const o of [...world.versions, ...world.deployments, ...world.autoscalers])
      cluster.seed(o as KubernetesObject);
    const sent: KubernetesObject[] = [];
    const apply = cluster.apply.bind(cluster);
    cluster.apply = (object) => {
      sent.push(object);
      return apply(object);
    };
    return { world, cluster, reconciler, sent };
  }

  it("keeps the canary's own autoscaler at the weight's bounds and never sends either Deployment's count", async () => {
    const { world, cluster, reconciler, sent } = midCanary();
    await reconciler.reconcile(KEY, world.now);
    const canaryHpa = sent.find(
      (o) => o.kind === "HorizontalPodAutoscaler" && o.metadata?.name === "spy-momentum-predictor-canary",
    ) as { spec?: { minReplicas?: number; maxReplicas?: number } } | undefined;
    // 25% beside 4 stable pods: 1 pod (round(4/3)); beside stable's maximum of 8: 3.
    expect(canaryHpa?.spec).toMatchObject({ minReplicas: 1, maxReplicas: 3 });
    const deployments = sent.filter((o) => o.kind === "Deployment") as { spec?: { replicas?: number } }[];
    expect(deployments).toHaveLength(2);
    expect(deployments.map((d) => d.spec?.replicas)).toEqual([undefined, undefined]);
    expect(cluster.calls.filter((c) => c.startsWith("create"))).toEqual([]);
  });

  it("on an abort, deletes the canary's autoscaler before its Deployment", async () => {
    const { world, cluster, reconciler } = midCanary();
    const aborted = structuredClone(world.model);
    aborted.spec.rollout.abortVersion = 2;
    aborted.metadata.generation = (aborted.metadata.generation ?? 0) + 1;
    cluster.seed(aborted as unknown as KubernetesObject);
    await reconciler.reconcile(KEY, world.now);
    expect(cluster.calls.filter((c) => c.startsWith("delete"))).toEqual([
      "delete HorizontalPodAutoscaler/spy-momentum-predictor-canary",
      "delete Deployment/spy-momentum-predictor-canary",
    ]);
    expect(statusOf(cluster)?.rollout?.phase).toBe("Aborted");
  });
});

describe("Reconciler adding autoscaling to a model serving a fixed count", () => {
  /** v1 serving on 3 pods, as a World left it (the operator's applies own the count), then autoscaling asked for. */
  function autoscalingAdded() {
    const world = new World(
      storedModel("spy-momentum.yaml", (raw) => {
        (raw.spec as Record<string, unknown>).serving = { replicas: 3 };
      }),
    );
    world.serveFirstVersion();
    const { cluster, reconciler } = setup(world.model);
    for (const o of [...world.versions, ...world.deployments]) cluster.seed(o as KubernetesObject);
    world.editSpec((spec) => {
      spec.serving.autoscaling = { minReplicas: 2, maxReplicas: 5, targetCPUUtilizationPercentage: 70 };
    });
    cluster.seed(world.model as unknown as KubernetesObject);
    return { world, cluster, reconciler };
  }

  it("hands stable's count over before the apply that stops sending it", async () => {
    const { world, cluster, reconciler } = autoscalingAdded();
    await reconciler.reconcile(KEY, world.now);
    const writes = cluster.calls.filter((c) => c.endsWith("Deployment/spy-momentum-predictor"));
    expect(writes).toEqual([
      "handover Deployment/spy-momentum-predictor",
      "apply Deployment/spy-momentum-predictor",
    ]);
  });

  it("goes on when another manager owns the count already (the apiserver answers Conflict)", async () => {
    const { world, cluster, reconciler } = autoscalingAdded();
    cluster.fail("handover", 409, 'Apply failed with 1 conflict: conflict with "kube-controller-manager"');
    await reconciler.reconcile(KEY, world.now);
    expect(cluster.calls).toContain("apply Deployment/spy-momentum-predictor");
    expect(cluster.calls).toContain("apply HorizontalPodAutoscaler/spy-momentum-predictor");
    expect(statusOf(cluster)?.conditions?.find((c) => c.type === "Degraded")?.status).toBe("False");
  });
});

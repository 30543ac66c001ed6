import type {
  V1ContainerState,
  V1Deployment,
  V1Job,
  V1ManagedFieldsEntry,
  V1Pod,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { Measurement, MeasurementRequest, TrackReadings } from "../analysis/measurement.ts";
import type { HoldoutMetrics, ModelVersion, TradingModel } from "../api/types.ts";
import type { StrategyComparison } from "../gate.ts";
import { LABEL_TRACK, LABEL_VERSION, type Track, versionLabel } from "../manifests/names.ts";
import { replicasHandoverManager } from "../manifests/predictor.ts";
import type { Plan, Settings } from "../reconcile/context.ts";
import { decide } from "../reconcile/decide.ts";
import type { MonitoringApis, Observed } from "../reconcile/observed.ts";
import { measurementDue } from "../rollout/machine.ts";
import { artifactText, metrics } from "./fixtures.ts";

/**
 * A small stand-in for the cluster around one TradingModel, for scenario tests of the decision:
 * it keeps what the plans created, lets the test play the Job and Deployment controllers, and runs
 * the next reconcile on the result. It is a test double for the cluster's state, not for the
 * decision under test.
 */

export const settings: Settings = {
  images: { predictor: "tradingmodel/predictor:0.1.0", operator: "tradingmodel/operator:0.1.0" },
  trainingJobTtlSeconds: 3600,
  fieldManager: "tradingmodel-operator",
};

/** A managedFields entry owning a Deployment's count (the World's Deployments have no other owned field). */
const replicasOwner = (manager: string, operation: "Apply" | "Update"): V1ManagedFieldsEntry => ({
  manager,
  operation,
  fieldsType: "FieldsV1",
  fieldsV1: { "f:spec": { "f:replicas": {} } },
});

export class World {
  model: TradingModel;
  jobs: V1Job[] = [];
  pods: V1Pod[] = [];
  versions: ModelVersion[] = [];
  artifacts: Observed["artifacts"] = [];
  deployments: V1Deployment[] = [];
  /** The autoscalers the plans applied and did not delete since. */
  autoscalers: V2HorizontalPodAutoscaler[] = [];
  monitoringApis?: MonitoringApis;
  alertRules?: Observed["alertRules"];
  now = new Date("2026-11-24T10:00:00Z");
  /** The measurement the shell hands the next reconcile (then it is used up). */
  measurement?: Measurement;
  /** What `tick` was asked to measure, in order. */
  measured: MeasurementRequest[] = [];
  last?: Plan;

  constructor(model: TradingModel) {
    this.model = model;
  }

  /** From nothing to v1 trained, past the gate and served: the reconciles in between included. */
  serveFirstVersion(): this {
    this.reconcile();
    this.trainingSucceeds(1);
    this.reconcile();
    this.rolloutCompletes();
    this.reconcile();
    return this;
  }

  /**
   * v1 serving, then v2 trained on a retrain request, past the gate (holdout directional accuracy
   * 0.56 against v1's 0.55): returns the plan of the reconcile that starts v2's rollout.
   */
  startV2(): Plan {
    this.serveFirstVersion();
    this.editSpec((spec) => {
      spec.training.retrainRequest = "r2";
    });
    this.reconcile();
    this.trainingSucceeds(2, metrics({ directionalAccuracy: 0.56 }), metrics({ directionalAccuracy: 0.55 }));
    return this.reconcile();
  }

  /** Runs one reconcile and applies its plan the way the adapter and the apiserver would. */
  reconcile(): Plan {
    const plan = decide(
      {
        model: this.model,
        jobs: this.jobs,
        trainingPods: this.pods,
        versions: this.versions,
        artifacts: this.artifacts,
        deployments: this.deployments,
        autoscaledTracks: this.autoscalers.map((a) => a.metadata?.labels?.[LABEL_TRACK] as Track),
        ...(this.monitoringApis ? { monitoringApis: this.monitoringApis } : {}),
        ...(this.alertRules ? { alertRules: this.alertRules } : {}),
        ...(this.measurement ? { measurement: this.measurement } : {}),
        now: this.now,
      },
      settings,
    );
    delete this.measurement;
    for (const object of plan.create) {
      // The apiserver answers AlreadyExists to a create of a name that exists: nothing changes.
      const exists = [...this.jobs, ...this.versions, ...this.deployments].some(
        (o) => o.kind === object.kind && o.metadata?.name === object.metadata?.name,
      );
      if (exists) continue;
      if (object.kind === "Job") this.jobs.push(structuredClone(object) as V1Job);
      if (object.kind === "Deployment") {
        const created = structuredClone(object) as V1Deployment;
        const owners =
          created.spec?.replicas === undefined ? [] : [replicasOwner(settings.fieldManager, "Update")];
        created.metadata = { ...created.metadata, generation: 1, managedFields: owners };
        created.status = {};
        this.deployments.push(created);
      }
      if (object.kind === "ModelVersion")
        this.versions.push(structuredClone(object) as unknown as ModelVersion);
    }
    for (const object of plan.handover) {
      const deployment = this.deployments.find((d) => d.metadata?.name === object.metadata?.name);
      const count = (object as V1Deployment).spec?.replicas;
      if (!deployment?.spec || count === undefined) continue;
      deployment.spec.replicas = count;
      deployment.metadata = {
        ...deployment.metadata,
        managedFields: [
          ...(deployment.metadata?.managedFields ?? []),
          replicasOwner(replicasHandoverManager(settings.fieldManager), "Apply"),
        ],
      };
    }
    for (const object of plan.apply) {
      if (object.kind === "HorizontalPodAutoscaler") {
        const name = object.metadata?.name;
        this.autoscalers = [
          ...this.autoscalers.filter((a) => a.metadata?.name !== name),
          structuredClone(object) as V2HorizontalPodAutoscaler,
        ];
      }
      if (object.kind !== "Deployment") continue;
      const previous = this.deployments.find((d) => d.metadata?.name === object.metadata?.name);
      const next = structuredClone(object) as V1Deployment;
      // Server-side apply of the count, by its owners: a count sent is the operator's (taken from
      // the others when it differs: force); one not sent stays while another write owns it (the
      // count an autoscaled Deployment was created with, a handover, the HPA's since), else it is
      // removed and defaults to one pod.
      const owners = previous?.metadata?.managedFields ?? [];
      const others = owners.filter((o) => o.manager !== settings.fieldManager || o.operation !== "Apply");
      let managedFields = others;
      if (next.spec?.replicas !== undefined) {
        const taken = next.spec.replicas !== previous?.spec?.replicas;
        managedFields = [...(taken ? [] : others), replicasOwner(settings.fieldManager, "Apply")];
      } else if (next.spec) {
        next.spec.replicas = others.length > 0 ? previous?.spec?.replicas : 1;
      }
      const changed = JSON.stringify(previous?.spec) !== JSON.stringify(next.spec);
      next.metadata = {
        ...next.metadata,
        generation: (previous?.metadata?.generation ?? 0) + (changed ? 1 : 0),
        managedFields,
      };
      next.status = previous?.status ?? {};
      this.deployments = [...this.deployments.filter((d) => d !== previous), next];
    }
    for (const ref of plan.delete) {
      if (ref.kind === "Deployment")
        this.deployments = this.deployments.filter((d) => d.metadata?.name !== ref.name);
      if (ref.kind === "HorizontalPodAutoscaler")
        this.autoscalers = this.autoscalers.filter((a) => a.metadata?.name !== ref.name);
      if (ref.kind === "Job") this.jobs = this.jobs.filter((j) => j.metadata?.name !== ref.name);
      if (ref.kind === "ModelVersion")
        this.versions = this.versions.filter((v) => v.metadata.name !== ref.name);
      if (ref.kind === "ConfigMap") this.artifacts = this.artifacts.filter((a) => a.name !== ref.name);
    }
    for (const { name, status } of plan.versionStatus) {
      const version = this.versions.find((v) => v.metadata.name === name);
      if (version) version.status = status;
    }
    this.model = { ...this.model, status: plan.status };
    this.last = plan;
    this.now = new Date(this.now.getTime() + 10_000);
    return plan;
  }

  job(version: number): V1Job {
    const job = this.jobs.find((j) => j.metadata?.labels?.[LABEL_VERSION] === versionLabel(version));
    if (!job) throw new Error(`no Job for v${version}`);
    return job;
  }

  /** Plays the Job controller and the publisher: the Job completes and its artifact is stored. */
  trainingSucceeds(
    version: number,
    holdout: HoldoutMetrics = metrics(),
    champion?: HoldoutMetrics,
    strategyComparison?: StrategyComparison,
  ): void {
    const job = this.job(version);
    job.status = { succeeded: 1, conditions: [{ type: "Complete", status: "True" }] };
    const name = `${this.model.metadata.name}-artifact-v${version}`;
    this.artifacts.push({ version, name, text: artifactText(this.model, holdout) });
    const summary = JSON.stringify({
      status: "ok",
      metrics: holdout,
      ...(champion
        ? { champion: { metrics: champion, ...(strategyComparison ? { strategyComparison } : {}) } }
        : {}),
    });
    this.pods.push(
      this.pod(version, { name: "train", state: { terminated: { exitCode: 0, message: summary } } }),
    );
  }

  /** Plays the Job controller after the trainer exited with `exitCode`, leaving `message`. */
  trainingFails(version: number, exitCode: number, message: string): void {
    const job = this.job(version);
    job.status = {
      failed: 3,
      conditions: [
        {
          type: "Failed",
          status: "True",
          reason: "BackoffLimitExceeded",
          message: "Job has reached the specified backoff limit",
        },
      ],
    };
    this.pods.push(this.pod(version, { name: "train", state: { terminated: { exitCode, message } } }));
  }

  trainingRuns(version: number): void {
    this.job(version).status = { active: 1, startTime: this.now };
  }

  /**
   * One reconcile of a rollout as the shell runs it: the pods of the asked split ready, and when a
   * measurement is due, one taken now that reads `candidate` for the candidate's track.
   */
  tick(candidate: Partial<TrackReadings>): Plan {
    this.rolloutCompletes();
    const due = measurementDue(this.model, this.now);
    if (due) {
      this.measured.push(due);
      this.measurement = {
        version: due.version,
        measuredAt: this.now.toISOString(),
        window: due.window,
        candidate,
      };
    }
    return this.reconcile();
  }

  /** Plays the Deployment controller: the stable Deployment finished rolling out its current template. */
  rolloutCompletes(available?: number): void {
    for (const d of this.deployments) {
      const replicas = d.spec?.replicas ?? 1;
      d.status = {
        observedGeneration: d.metadata?.generation ?? 1,
        replicas,
        updatedReplicas: replicas,
        availableReplicas: available ?? replicas,
        readyReplicas: available ?? replicas,
      };
    }
  }

  /** Plays the Deployment controller giving up: the new pods never became available. */
  rolloutStalls(): void {
    for (const d of this.deployments) {
      const replicas = d.spec?.replicas ?? 1;
      d.status = {
        observedGeneration: d.metadata?.generation ?? 1,
        replicas: replicas + 1,
        updatedReplicas: 1,
        availableReplicas: replicas,
        conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
      };
    }
  }

  editSpec(edit: (spec: TradingModel["spec"]) => void): void {
    const model = structuredClone(this.model);
    edit(model.spec);
    model.metadata.generation = (model.metadata.generation ?? 0) + 1;
    this.model = model;
  }

  private pod(version: number, status: { name: string; state: V1ContainerState }): V1Pod {
    return {
      metadata: {
        name: `${this.model.metadata.name}-train-v${version}-${this.pods.length}`,
        labels: { [LABEL_VERSION]: versionLabel(version) },
        creationTimestamp: this.now,
      },
      status: {
        initContainerStatuses: [{ ...status, image: "", imageID: "", ready: false, restartCount: 0 }],
      },
    };
  }
}

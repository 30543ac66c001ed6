import type { V1Deployment, V1Job, V1Pod } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { championMetricsFromTrainer, deploymentRollout, trainerFailure } from "./observed.ts";

const job = (reason: string, message: string): V1Job => ({
  metadata: { name: "m-train-v2", labels: { "trading.mlops.dev/version": "v2" } },
  status: { conditions: [{ type: "Failed", status: "True", reason, message }] },
});

const pod = (statuses: { name: string; exitCode: number; message?: string }[], init = true): V1Pod => {
  const list = statuses.map(({ name, exitCode, message }) => ({
    name,
    image: "",
    imageID: "",
    ready: false,
    restartCount: 0,
    state: { terminated: { exitCode, ...(message === undefined ? {} : { message }) } },
  }));
  return {
    metadata: {
      labels: { "trading.mlops.dev/version": "v2" },
      creationTimestamp: new Date("2026-11-24T10:00:00Z"),
    },
    status: init ? { initContainerStatuses: list } : { containerStatuses: list },
  };
};

describe("trainerFailure", () => {
  it("names a deadline with the Job's own message", () => {
    expect(
      trainerFailure(job("DeadlineExceeded", "Job was active longer than specified deadline"), []),
    ).toEqual({
      reason: "TrainingDeadlineExceeded",
      message: "Job was active longer than specified deadline",
    });
  });

  it("maps the trainer's exit codes to reasons and quotes its termination message", () => {
    const failed = job("BackoffLimitExceeded", "Job has reached the specified backoff limit");
    expect(
      trainerFailure(failed, [pod([{ name: "train", exitCode: 1, message: "internal error: boom" }])]),
    ).toEqual({
      reason: "TrainerInternalError",
      message: "train exited 1: internal error: boom",
    });
    expect(trainerFailure(failed, [pod([{ name: "train", exitCode: 2 }])]).message).toBe(
      "train exited 2: container train exited with code 2",
    );
  });

  it("tells a failed artifact upload from a failed training", () => {
    const failed = job("BackoffLimitExceeded", "Job has reached the specified backoff limit");
    const statuses = pod([{ name: "publish", exitCode: 1, message: "configmaps is forbidden" }], false);
    expect(trainerFailure(failed, [statuses])).toEqual({
      reason: "ArtifactPublishFailed",
      message: "publish exited 1: configmaps is forbidden",
    });
  });

  it("falls back to the Job's condition when no pod is left", () => {
    const failed = job("BackoffLimitExceeded", "Job has reached the specified backoff limit");
    expect(trainerFailure(failed, [])).toEqual({
      reason: "TrainingFailed",
      message: "Job has reached the specified backoff limit",
    });
  });
});

describe("championMetricsFromTrainer", () => {
  it("reads the champion's same-holdout metrics from the trainer's summary, and nothing from an error", () => {
    const metrics = {
      samples: 10,
      r2: 0.01,
      rmse: 1,
      mae: 1,
      directionalAccuracy: 0.5,
      informationCoefficient: 0,
      intervalCoverage: 0.9,
    };
    const strategyComparison = {
      meanDifference: 1e-6,
      standardError: 2e-6,
      pValue: 0.62,
      effectiveSamples: 7.5,
      samples: 10,
      bandwidth: 1.5,
    };
    const fromSummary = (champion: unknown) =>
      championMetricsFromTrainer(job("", ""), [
        pod([{ name: "train", exitCode: 0, message: JSON.stringify({ status: "ok", champion }) }]),
      ]);
    expect(fromSummary({ sha256: "x", metrics })).toEqual({ metrics });
    expect(fromSummary({ sha256: "x", metrics, strategyComparison })).toEqual({
      metrics,
      strategyComparison,
    });
    expect(
      championMetricsFromTrainer(job("", ""), [pod([{ name: "train", exitCode: 2, message: "data: NaN" }])]),
    ).toBeUndefined();
  });
});

describe("deploymentRollout", () => {
  const deployment = (status: V1Deployment["status"], generation = 2): V1Deployment => ({
    metadata: { generation },
    spec: {
      replicas: 2,
      selector: {},
      template: { metadata: { labels: { "trading.mlops.dev/version": "v3" } } },
    },
    status,
  });

  it("is complete when every pod runs the current template and is available", () => {
    const done = deploymentRollout(
      deployment({ observedGeneration: 2, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
    );
    expect(done).toEqual({
      version: 3,
      desired: 2,
      updated: 2,
      available: 2,
      complete: true,
      stalled: false,
    });
  });

  it("is not complete while old pods remain or the controller has not seen the new template", () => {
    expect(
      deploymentRollout(
        deployment({ observedGeneration: 2, replicas: 3, updatedReplicas: 2, availableReplicas: 3 }),
      ).complete,
    ).toBe(false);
    expect(
      deploymentRollout(
        deployment({ observedGeneration: 1, replicas: 2, updatedReplicas: 2, availableReplicas: 2 }),
      ).complete,
    ).toBe(false);
  });

  it("reports a rollout past its progress deadline as stalled", () => {
    const stalled = deployment({
      observedGeneration: 2,
      conditions: [{ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded" }],
    });
    expect(deploymentRollout(stalled).stalled).toBe(true);
  });
});

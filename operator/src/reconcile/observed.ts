import type { CoreV1Event, KubernetesObject, V1Deployment, V1Job, V1Pod } from "@kubernetes/client-node";
import { EXIT } from "../../../predictor/src/train/command.ts";
import type { Measurement } from "../analysis/measurement.ts";
import type { HoldoutMetrics, ModelVersion, TradingModel } from "../api/types.ts";
import { Reason, type TrainingFailureReason } from "../conditions.ts";
import type { StrategyComparison } from "../gate.ts";
import {
  ANNOTATION_CHAMPION_VERSION,
  ANNOTATION_TRAINING_HASH,
  LABEL_TRACK,
  LABEL_VERSION,
  type Track,
  versionFromName,
} from "../manifests/names.ts";

/**
 * Everything a reconcile of one TradingModel observed, read from the informers' caches by the
 * adapter. The decision starts from this whole picture every time, never from the event that woke
 * it. Each list holds the model's objects in its namespace, selected by the `trading.mlops.dev/model`
 * label and `trading.mlops.dev/component` (trainer, artifact, predictor).
 */
export interface Observed {
  model: TradingModel;
  /** Training Jobs (component trainer). */
  jobs: V1Job[];
  /** Their pods (component trainer): container statuses carry the trainer's termination message. */
  trainingPods: V1Pod[];
  /** ModelVersions whose spec.model is this model. */
  versions: ModelVersion[];
  /**
   * Artifact ConfigMaps (component artifact), with the version from their label. `text` (the
   * `artifact.json` key) is needed only for versions that have no ModelVersion yet.
   */
  artifacts: { version: number; name: string; text?: string }[];
  /** Predictor Deployments (component predictor). */
  deployments: V1Deployment[];
  /** The tracks whose HorizontalPodAutoscaler (named like the track's Deployment) exists. */
  autoscaledTracks: Track[];
  /** Which prometheus-operator APIs the cluster serves; absent: none. */
  monitoringApis?: MonitoringApis;
  /**
   * The model's PrometheusRule as stored (controlled by the model), and the Warning Events with
   * reason InvalidRules that a rule loader recorded on PrometheusRules of the namespace; absent
   * where neither is watched.
   */
  alertRules?: { stored?: KubernetesObject; rejections: CoreV1Event[] };
  /** The rollout's live measurement, taken by the shell when `measurementDue` asked for one. */
  measurement?: Measurement;
  now: Date;
}

/** The monitoring.coreos.com/v1 kinds the cluster serves (their CRDs are installed). */
export interface MonitoringApis {
  prometheusRules: boolean;
  podMonitors: boolean;
}

export const NO_MONITORING_APIS: MonitoringApis = { prometheusRules: false, podMonitors: false };

export type JobState = "Running" | "Succeeded" | "Failed";

export interface TrainingAttempt {
  version: number;
  trainingHash?: string;
  championVersion?: number;
  job?: V1Job;
}

export const jobVersion = (job: V1Job) => versionFromName(job.metadata?.labels?.[LABEL_VERSION]);

export function attemptOf(job: V1Job): TrainingAttempt | undefined {
  const version = jobVersion(job);
  if (version === undefined) return undefined;
  const annotations = job.metadata?.annotations ?? {};
  const champion = annotations[ANNOTATION_CHAMPION_VERSION];
  return {
    version,
    job,
    ...(annotations[ANNOTATION_TRAINING_HASH] ? { trainingHash: annotations[ANNOTATION_TRAINING_HASH] } : {}),
    ...(champion ? { championVersion: Number(champion) } : {}),
  };
}

export function jobState(job: V1Job): JobState {
  const done = (type: string) => job.status?.conditions?.some((c) => c.type === type && c.status === "True");
  if (done("Complete")) return "Succeeded";
  if (done("Failed")) return "Failed";
  return "Running";
}

export interface TrainerFailure {
  /** CamelCase reason for the condition and the Event. */
  reason: TrainingFailureReason;
  message: string;
}

/** Exit codes of `predictor train` (predictor/src/train/command.ts) and what they mean to users. */
const EXIT_REASONS: Record<number, TrainingFailureReason> = {
  [EXIT.internal]: Reason.TrainerInternalError,
  [EXIT.invalid]: Reason.InvalidTrainingInput,
  [EXIT.unavailable]: Reason.DataSourceUnavailable,
};

function latestPod(pods: readonly V1Pod[]): V1Pod | undefined {
  return [...pods].sort((a, b) =>
    String(a.metadata?.creationTimestamp ?? "").localeCompare(String(b.metadata?.creationTimestamp ?? "")),
  )[pods.length - 1];
}

/** A Job's pods carry the Job's version label (the pod template's labels). */
const podsOf = (job: V1Job, pods: readonly V1Pod[]) =>
  pods.filter((p) => p.metadata?.labels?.[LABEL_VERSION] === job.metadata?.labels?.[LABEL_VERSION]);

/** Why a training Job failed, in the trainer's own words where it left any. */
export function trainerFailure(job: V1Job, pods: readonly V1Pod[]): TrainerFailure {
  const failed = job.status?.conditions?.find((c) => c.type === "Failed" && c.status === "True");
  const pod = latestPod(podsOf(job, pods));
  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  const terminated = statuses
    .map((s) => ({ name: s.name, t: s.state?.terminated ?? s.lastState?.terminated }))
    .find(({ t }) => t !== undefined && t.exitCode !== 0);
  if (failed?.reason === "DeadlineExceeded") {
    return {
      reason: Reason.TrainingDeadlineExceeded,
      message: failed.message ?? "training exceeded its deadline",
    };
  }
  if (terminated?.t) {
    const { exitCode, message } = terminated.t;
    const reason =
      terminated.name === "train"
        ? (EXIT_REASONS[exitCode] ?? Reason.TrainingFailed)
        : Reason.ArtifactPublishFailed;
    const text = message?.trim() || `container ${terminated.name} exited with code ${exitCode}`;
    return { reason, message: `${terminated.name} exited ${exitCode}: ${text}` };
  }
  return {
    reason: Reason.TrainingFailed,
    message: failed?.message ?? failed?.reason ?? "the training Job failed",
  };
}

/**
 * The champion's metrics on the candidate's own holdout, and the comparison of their strategies,
 * when the trainer left its summary line in the train container's termination message.
 */
export function championMetricsFromTrainer(
  job: V1Job,
  pods: readonly V1Pod[],
): { metrics: HoldoutMetrics; strategyComparison?: StrategyComparison } | undefined {
  const pod = latestPod(podsOf(job, pods));
  const train = pod?.status?.initContainerStatuses?.find((s) => s.name === "train");
  const message = train?.state?.terminated?.message;
  if (!message?.trim().startsWith("{")) return undefined;
  try {
    const { champion } = JSON.parse(message) as {
      champion?: { metrics?: HoldoutMetrics; strategyComparison?: StrategyComparison };
    };
    if (!champion?.metrics) return undefined;
    const { metrics, strategyComparison } = champion;
    return { metrics, ...(strategyComparison ? { strategyComparison } : {}) };
  } catch {
    return undefined;
  }
}

export interface DeploymentRollout {
  version?: number;
  desired: number;
  updated: number;
  available: number;
  complete: boolean;
  /** The Deployment controller gave up (progressDeadlineSeconds). */
  stalled: boolean;
}

/** Where a predictor Deployment's rolling update stands, from its status. */
export function deploymentRollout(deployment: V1Deployment): DeploymentRollout {
  const status = deployment.status ?? {};
  const desired = deployment.spec?.replicas ?? 1;
  const updated = status.updatedReplicas ?? 0;
  const available = status.availableReplicas ?? 0;
  const current = (status.observedGeneration ?? 0) >= (deployment.metadata?.generation ?? 0);
  const version = versionFromName(deployment.spec?.template.metadata?.labels?.[LABEL_VERSION]);
  return {
    ...(version === undefined ? {} : { version }),
    desired,
    updated,
    available,
    complete: current && updated >= desired && available >= desired && (status.replicas ?? 0) === updated,
    stalled: (status.conditions ?? []).some(
      (c) => c.type === "Progressing" && c.reason === "ProgressDeadlineExceeded",
    ),
  };
}

export const trackOf = (deployment: V1Deployment) => deployment.metadata?.labels?.[LABEL_TRACK];

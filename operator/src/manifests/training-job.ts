import type { V1Container, V1Job, V1Volume, V1VolumeMount } from "@kubernetes/client-node";
import { EXIT } from "../../../predictor/src/train/command.ts";
import type { TradingModel } from "../api/types.ts";
import {
  ANNOTATION_CHAMPION_VERSION,
  ANNOTATION_GENERATION,
  ANNOTATION_RETRAIN_REQUEST,
  ANNOTATION_TRAINING_HASH,
  ARTIFACT_KEY,
  artifactConfigMapName,
  labels,
  trainerServiceAccountName,
  trainingJobName,
} from "./names.ts";
import { ownedBy } from "./owner.ts";
import { containerResources } from "./resources.ts";
import { restrictedContainerSecurity, restrictedPodSecurity, tmpMount, tmpVolume } from "./security.ts";
import { DATA_MOUNT_PATH, trainerSpec } from "./trainer-spec.ts";

export interface Images {
  /** `tradingmodel/predictor:<version>`: runs `predictor train` and `predictor serve`. */
  predictor: string;
  /** `tradingmodel/operator:<version>`: its `publish-artifact` command stores the artifact. */
  operator: string;
}

export interface TrainingJobInput {
  model: TradingModel;
  version: number;
  trainingHash: string;
  /** The stable version, whose artifact the trainer judges on the candidate's holdout. */
  champion?: number;
  images: Images;
  ttlSecondsAfterFinished: number;
}

/** `predictor train` exits 2 for an invalid spec or invalid data (predictor/src/train/command.ts). */
const TRAINER_EXIT_INVALID = EXIT.invalid;

const OUT_DIR = "/out";
const CHAMPION_DIR = "/champion";
const TERMINATION_LOG = "/dev/termination-log";
const SERVICE_ACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount";

/** The API credentials kubelet would mount automatically, mounted here into the publisher only. */
const apiAccessVolume: V1Volume = {
  name: "kube-api-access",
  projected: {
    defaultMode: 0o444,
    sources: [
      { serviceAccountToken: { path: "token", expirationSeconds: 3607 } },
      { configMap: { name: "kube-root-ca.crt", items: [{ key: "ca.crt", path: "ca.crt" }] } },
      { downwardAPI: { items: [{ path: "namespace", fieldRef: { fieldPath: "metadata.namespace" } }] } },
    ],
  },
};

function trainerContainer(input: TrainingJobInput): V1Container {
  const { model, champion } = input;
  const data = model.spec.training.data;
  const mounts: V1VolumeMount[] = [tmpMount, { name: "out", mountPath: OUT_DIR }];
  if (champion !== undefined) mounts.push({ name: "champion", mountPath: CHAMPION_DIR, readOnly: true });
  if (data.configMapRef) mounts.push({ name: "data", mountPath: DATA_MOUNT_PATH, readOnly: true });
  return {
    name: "train",
    image: input.images.predictor,
    args: [
      "train",
      "--spec",
      JSON.stringify(trainerSpec(model.spec)),
      "--out",
      `${OUT_DIR}/${ARTIFACT_KEY}`,
      ...(champion === undefined ? [] : ["--champion", `${CHAMPION_DIR}/${ARTIFACT_KEY}`]),
    ],
    env: [{ name: "TERMINATION_LOG", value: TERMINATION_LOG }],
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: "FallbackToLogsOnError",
    resources: containerResources(model.spec.training.resources),
    securityContext: restrictedContainerSecurity,
    volumeMounts: mounts,
  };
}

function publisherContainer(input: TrainingJobInput): V1Container {
  const { model, version } = input;
  return {
    name: "publish",
    image: input.images.operator,
    args: [
      "publish-artifact",
      "--file",
      `${OUT_DIR}/${ARTIFACT_KEY}`,
      "--configmap",
      artifactConfigMapName(model.metadata.name, version),
      "--model",
      model.metadata.name,
      "--model-uid",
      model.metadata.uid,
      "--version",
      String(version),
    ],
    env: [{ name: "TERMINATION_LOG", value: TERMINATION_LOG }],
    terminationMessagePath: TERMINATION_LOG,
    terminationMessagePolicy: "FallbackToLogsOnError",
    resources: { requests: { cpu: "50m", memory: "64Mi" }, limits: { cpu: "200m", memory: "128Mi" } },
    securityContext: restrictedContainerSecurity,
    volumeMounts: [
      tmpMount,
      { name: "out", mountPath: OUT_DIR, readOnly: true },
      { name: apiAccessVolume.name, mountPath: SERVICE_ACCOUNT_DIR, readOnly: true },
    ],
  };
}

function volumes(input: TrainingJobInput): V1Volume[] {
  const { model, champion } = input;
  const out: V1Volume[] = [tmpVolume, { name: "out", emptyDir: { sizeLimit: "16Mi" } }, apiAccessVolume];
  if (champion !== undefined) {
    out.push({
      name: "champion",
      configMap: { name: artifactConfigMapName(model.metadata.name, champion), defaultMode: 0o444 },
    });
  }
  const ref = model.spec.training.data.configMapRef;
  if (ref) {
    out.push({
      name: "data",
      configMap: { name: ref.name, items: [{ key: ref.key, path: ref.key }], defaultMode: 0o444 },
    });
  }
  return out;
}

/**
 * The Job that trains one version. The trainer runs first (an init container) with no API
 * credentials: it reads user-named data and must not hold a token. The publisher then stores the
 * artifact as an immutable ConfigMap with the trainer ServiceAccount's narrow rights.
 */
export function trainingJob(input: TrainingJobInput): V1Job {
  const { model, version } = input;
  const name = model.metadata.name;
  const jobLabels = labels(name, "trainer", { version });
  const training = model.spec.training;
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: {
      name: trainingJobName(name, version),
      namespace: model.metadata.namespace,
      labels: jobLabels,
      annotations: {
        [ANNOTATION_TRAINING_HASH]: input.trainingHash,
        [ANNOTATION_GENERATION]: String(model.metadata.generation ?? 0),
        ...(training.retrainRequest === undefined
          ? {}
          : { [ANNOTATION_RETRAIN_REQUEST]: training.retrainRequest }),
        ...(input.champion === undefined ? {} : { [ANNOTATION_CHAMPION_VERSION]: String(input.champion) }),
      },
      ownerReferences: ownedBy(model.metadata),
    },
    spec: {
      backoffLimit: training.backoffLimit,
      activeDeadlineSeconds: training.activeDeadlineSeconds,
      ttlSecondsAfterFinished: input.ttlSecondsAfterFinished,
      // Bad spec or data (exit 2) fails the same way on every retry: stop at once. An unreachable
      // data source (exit 3) may come back, and an evicted pod did nothing wrong.
      podFailurePolicy: {
        rules: [
          {
            action: "FailJob",
            onExitCodes: { containerName: "train", operator: "In", values: [TRAINER_EXIT_INVALID] },
          },
          { action: "Ignore", onPodConditions: [{ type: "DisruptionTarget", status: "True" }] },
        ],
      },
      template: {
        metadata: { labels: jobLabels },
        spec: {
          serviceAccountName: trainerServiceAccountName(name),
          automountServiceAccountToken: false,
          restartPolicy: "Never",
          securityContext: restrictedPodSecurity,
          initContainers: [trainerContainer(input)],
          containers: [publisherContainer(input)],
          volumes: volumes(input),
        },
      },
    },
  };
}

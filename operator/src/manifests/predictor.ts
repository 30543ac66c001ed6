import type {
  KubernetesObject,
  V1Deployment,
  V1DeploymentSpec,
  V1ManagedFieldsEntry,
  V1Service,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import { SERVE_COMMAND } from "../../../predictor/src/serve/node-options.ts";
import type { ModelVersionSpec, TradingModel } from "../api/types.ts";
import {
  ARTIFACT_KEY,
  LABEL_MODEL,
  LABEL_TRACK,
  LABEL_TRAFFIC,
  labels,
  predictorDeploymentName,
  predictorPreviewServiceName,
  predictorServiceName,
  predictorShadowServiceName,
  type Track,
  versionLabel,
} from "./names.ts";
import { ownedBy } from "./owner.ts";
import { containerResources } from "./resources.ts";
import { restrictedContainerSecurity, restrictedPodSecurity, tmpMount, tmpVolume } from "./security.ts";

export const PREDICTOR_PORT = 8080;
const ARTIFACT_DIR = "/artifact";

/**
 * Zero-drop shutdown: on deletion the pod is first removed from the Service's endpoints, which
 * takes a moment to reach every client; the preStop sleep keeps it serving meanwhile. Then SIGTERM
 * turns the predictor unready and it finishes in-flight requests. The grace period covers both.
 */
export const PRE_STOP_SLEEP_SECONDS = 5;
export const TERMINATION_GRACE_PERIOD_SECONDS = 30;

/**
 * How long a predictor may take to listen before it is restarted. Its cold start (process start to
 * ready) measured 0.4 s alone and up to 3.8 s (1.6 s with a warm compile cache) with two trainers,
 * three more predictors and the operator starting beside it on 2 cores
 * (scripts/predictor-cold-start.ts); a node busier still must not turn a slow start into a
 * restart loop.
 */
export const STARTUP_ALLOWANCE_SECONDS = 120;

export interface PredictorInput {
  model: TradingModel;
  /** The version served: its number and artifact. */
  version: Pick<ModelVersionSpec, "version" | "artifact">;
  track: Track;
  image: string;
  /** Pods; omitted: the spec's count, or none when an autoscaler owns the count. */
  replicas?: number;
}

/** Selects a model's pods of one track; the version is deliberately not in it (it changes in place). */
export function predictorSelector(model: string, track: Track): Record<string, string> {
  return { [LABEL_MODEL]: model, [LABEL_TRACK]: track };
}

/** A predictor Deployment serving one version of a model on one track. */
export function predictorDeployment(input: PredictorInput): V1Deployment {
  const { model, version, track } = input;
  const name = model.metadata.name;
  const number = version.version;
  const serving = model.spec.serving;
  const podLabels = {
    ...labels(name, "predictor", { version: number, track }),
    ...(track === "stable" || track === "canary" ? { [LABEL_TRAFFIC]: "live" } : {}),
  };
  const artifact = version.artifact;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: predictorDeploymentName(name, track),
      namespace: model.metadata.namespace,
      labels: podLabels,
      ownerReferences: ownedBy(model.metadata),
    },
    spec: {
      // With autoscaling the HPA owns the replica count; setting it here would fight it on every apply.
      ...(input.replicas !== undefined
        ? { replicas: input.replicas }
        : serving.autoscaling
          ? {}
          : { replicas: serving.replicas }),
      selector: { matchLabels: predictorSelector(name, track) },
      // A rolling update (a promotion moving stable to the candidate) starts every new pod at once:
      // it takes one pod start instead of one per pod, and never goes below the ready pods it had.
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: "100%" } },
      template: {
        metadata: {
          labels: podLabels,
          annotations: {
            "prometheus.io/scrape": "true",
            "prometheus.io/port": String(PREDICTOR_PORT),
            "prometheus.io/path": "/metrics",
            "trading.mlops.dev/artifact-sha256": artifact.sha256,
          },
        },
        spec: {
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: restrictedPodSecurity,
          terminationGracePeriodSeconds: TERMINATION_GRACE_PERIOD_SECONDS,
          containers: [
            {
              name: "predictor",
              image: input.image,
              command: [...SERVE_COMMAND],
              args: ["serve"],
              ports: [{ name: "http", containerPort: PREDICTOR_PORT, protocol: "TCP" }],
              env: [
                { name: "MODEL_NAME", value: name },
                { name: "MODEL_VERSION", value: versionLabel(number) },
                { name: "MODEL_TRACK", value: track },
                { name: "ARTIFACT_PATH", value: `${ARTIFACT_DIR}/${ARTIFACT_KEY}` },
                { name: "ARTIFACT_SHA256", value: artifact.sha256 },
                { name: "PORT", value: String(PREDICTOR_PORT) },
                ...(track === "stable" ? [{ name: "SHADOW_URL", value: shadowUrl(name) }] : []),
              ],
              // Liveness and readiness wait for this: a pod starting slowly on a busy node (Node
              // compiling its modules beside other pods) is not killed before it could listen.
              startupProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 1,
                failureThreshold: STARTUP_ALLOWANCE_SECONDS,
                timeoutSeconds: 1,
              },
              // Every second: a kubelet runs the first readiness probe up to a period after the
              // startup probe passed, and each canary step and promotion waits for that.
              readinessProbe: {
                httpGet: { path: "/readyz", port: "http" },
                periodSeconds: 1,
                failureThreshold: 2,
                timeoutSeconds: 1,
              },
              livenessProbe: {
                httpGet: { path: "/healthz", port: "http" },
                periodSeconds: 10,
                failureThreshold: 3,
                timeoutSeconds: 2,
              },
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SLEEP_SECONDS } } },
              resources: containerResources(serving.resources),
              securityContext: restrictedContainerSecurity,
              volumeMounts: [tmpMount, { name: "artifact", mountPath: ARTIFACT_DIR, readOnly: true }],
            },
          ],
          volumes: [
            tmpVolume,
            {
              name: "artifact",
              configMap: {
                name: artifact.configMapRef.name,
                items: [{ key: artifact.configMapRef.key, path: ARTIFACT_KEY }],
                defaultMode: 0o444,
              },
            },
          ],
        },
      },
    },
  };
}

/**
 * The field manager a Deployment's `spec.replicas` is handed over to (Kubernetes' "transferring
 * ownership" for an HPA) before the operator's apply stops sending the field.
 */
export const replicasHandoverManager = (fieldManager: string) => `${fieldManager}-replicas-handover`;

type FieldSet = { "f:spec"?: { "f:replicas"?: unknown } };

/** Whether a managedFields entry (any manager, operation or subresource) owns `spec.replicas`. */
const ownsReplicas = (entry: V1ManagedFieldsEntry) =>
  (entry.fieldsV1 as FieldSet | undefined)?.["f:spec"]?.["f:replicas"] !== undefined;

/**
 * The apply to run under `replicasHandoverManager` before `desired` is applied, or none. Server-side
 * apply removes a field its applier stops sending when no other manager owns it, and a Deployment
 * without `spec.replicas` defaults to one pod: so when `fieldManager`'s applies are the live
 * Deployment's only owner of its count (it was applied with one, autoscaling came later) and
 * `desired` no longer sends it, another manager first takes the live count over. The HPA takes it
 * from that manager as soon as it scales. Read from `metadata.managedFields` as the informers cache it.
 */
export function replicasHandover(
  live: V1Deployment | undefined,
  desired: KubernetesObject,
  fieldManager: string,
): V1Deployment | undefined {
  const count = live?.spec?.replicas;
  if (desired.kind !== "Deployment" || (desired as V1Deployment).spec?.replicas !== undefined)
    return undefined;
  if (!live?.metadata?.name || count === undefined) return undefined;
  const owners = (live.metadata.managedFields ?? []).filter(ownsReplicas);
  const ours = (entry: V1ManagedFieldsEntry) => entry.manager === fieldManager && entry.operation === "Apply";
  if (owners.length === 0 || !owners.every(ours)) return undefined;
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name: live.metadata.name, namespace: live.metadata.namespace ?? "" },
    spec: { replicas: count } as V1DeploymentSpec,
  };
}

/**
 * The Service clients call: every pod that takes live traffic (stable, and a canary's during a
 * rollout), or, after a blue-green switch, the candidate's preview pods alone.
 */
export function predictorService(model: TradingModel, switchedTo?: "preview"): V1Service {
  const name = model.metadata.name;
  return service(
    model,
    predictorServiceName(name),
    switchedTo ? predictorSelector(name, switchedTo) : { [LABEL_MODEL]: name, [LABEL_TRAFFIC]: "live" },
  );
}

/**
 * Where stable's pods mirror every request, whether a shadow runs or not: the shadow Service's
 * name, resolved in the pod's namespace. Constant, so a shadow phase starting or ending never
 * changes stable's pod template (which would restart its pods).
 */
export const shadowUrl = (model: string) => `http://${predictorShadowServiceName(model)}:${PREDICTOR_PORT}`;

/** The Service stable mirrors to: the shadow track's pods, none outside a shadow phase. */
export function predictorShadowService(model: TradingModel): V1Service {
  const name = model.metadata.name;
  return service(model, predictorShadowServiceName(name), predictorSelector(name, "shadow"));
}

/** A blue-green candidate's Service: its pods before the switch, for clients that try it first. */
export function predictorPreviewService(model: TradingModel): V1Service {
  const name = model.metadata.name;
  return service(model, predictorPreviewServiceName(name), predictorSelector(name, "preview"));
}

function service(model: TradingModel, serviceName: string, selector: Record<string, string>): V1Service {
  const name = model.metadata.name;
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: {
      name: serviceName,
      namespace: model.metadata.namespace,
      labels: labels(name, "predictor"),
      ownerReferences: ownedBy(model.metadata),
    },
    spec: {
      type: "ClusterIP",
      selector,
      ports: [{ name: "http", port: PREDICTOR_PORT, targetPort: "http", protocol: "TCP" }],
    },
  };
}

/** The pod count bounds an autoscaler keeps one track's Deployment within. */
export interface AutoscalerBounds {
  minReplicas: number;
  maxReplicas: number;
}

/**
 * Scales one track's predictor Deployment on CPU (the spec's `serving.autoscaling` target) within
 * `bounds`, which the traffic router derives from the rollout; undefined when the spec does not
 * autoscale. Named like the Deployment it scales.
 */
export function predictorAutoscaler(
  model: TradingModel,
  track: Track,
  bounds: AutoscalerBounds,
): V2HorizontalPodAutoscaler | undefined {
  const autoscaling = model.spec.serving.autoscaling;
  if (!autoscaling) return undefined;
  const name = model.metadata.name;
  return {
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: {
      name: predictorDeploymentName(name, track),
      namespace: model.metadata.namespace,
      labels: labels(name, "predictor", { track }),
      ownerReferences: ownedBy(model.metadata),
    },
    spec: {
      scaleTargetRef: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        name: predictorDeploymentName(name, track),
      },
      minReplicas: bounds.minReplicas,
      maxReplicas: bounds.maxReplicas,
      metrics: [
        {
          type: "Resource",
          resource: {
            name: "cpu",
            target: { type: "Utilization", averageUtilization: autoscaling.targetCPUUtilizationPercentage },
          },
        },
      ],
    },
  };
}

import type {
  CoreV1Event,
  KubernetesObject,
  V1ConfigMap,
  V1Deployment,
  V1Job,
  V1Pod,
  V2HorizontalPodAutoscaler,
} from "@kubernetes/client-node";
import type { ModelVersion, TradingModel } from "../api/types.ts";
import {
  ARTIFACT_KEY,
  LABEL_COMPONENT,
  LABEL_MODEL,
  LABEL_VERSION,
  predictorDeploymentName,
  TRACKS,
  versionFromName,
} from "../manifests/names.ts";
import type { MonitoringApis, Observed } from "../reconcile/observed.ts";

/** The informers' caches of one namespace, as the reconcile reads them. */
export interface NamespaceCache {
  jobs: V1Job[];
  pods: V1Pod[];
  versions: ModelVersion[];
  configMaps: V1ConfigMap[];
  deployments: V1Deployment[];
  autoscalers: V2HorizontalPodAutoscaler[];
  /** The models' PrometheusRules; absent where the operator does not watch them. */
  prometheusRules?: KubernetesObject[];
  /** Warning Events with reason InvalidRules on PrometheusRules (a rule loader refused them). */
  ruleRejections?: CoreV1Event[];
  /** Cluster-wide, from API discovery; none when not given. */
  monitoringApis?: MonitoringApis;
}

/** Controlled by this TradingModel (by uid: a model deleted and recreated under the same name owns nothing of the old one's). */
export function controlledBy(object: KubernetesObject, model: TradingModel): boolean {
  return (object.metadata?.ownerReferences ?? []).some(
    (ref) => ref.controller === true && ref.kind === "TradingModel" && ref.uid === model.metadata.uid,
  );
}

const component = (object: KubernetesObject) => object.metadata?.labels?.[LABEL_COMPONENT];

/**
 * Everything the decision needs about one model, picked from the caches: its children by
 * controller reference, the training pods by their Job, and artifact text only for versions not
 * registered yet (the only ones the decision reads).
 */
export function observe(model: TradingModel, cache: NamespaceCache, now: Date): Observed {
  const mine = <T extends KubernetesObject>(objects: T[]) => objects.filter((o) => controlledBy(o, model));
  const jobs = mine(cache.jobs).filter((j) => component(j) === "trainer");
  const jobUids = new Set(jobs.map((j) => j.metadata?.uid));
  const trainingPods = cache.pods.filter((p) =>
    (p.metadata?.ownerReferences ?? []).some((ref) => ref.kind === "Job" && jobUids.has(ref.uid)),
  );
  const versions = cache.versions.filter(
    (v) => controlledBy(v as KubernetesObject, model) && v.spec?.model === model.metadata.name,
  );
  const registered = new Set(versions.map((v) => v.spec.version));
  const artifacts: Observed["artifacts"] = [];
  for (const cm of mine(cache.configMaps)) {
    if (component(cm) !== "artifact") continue;
    const version = versionFromName(cm.metadata?.labels?.[LABEL_VERSION]);
    if (version === undefined) continue;
    const text = registered.has(version) ? undefined : cm.data?.[ARTIFACT_KEY];
    artifacts.push({ version, name: cm.metadata?.name ?? "", ...(text === undefined ? {} : { text }) });
  }
  const autoscalerNames = new Set(mine(cache.autoscalers).map((a) => a.metadata?.name));
  return {
    model,
    jobs,
    trainingPods,
    versions,
    artifacts,
    deployments: mine(cache.deployments).filter((d) => component(d) === "predictor"),
    autoscaledTracks: TRACKS.filter((t) =>
      autoscalerNames.has(predictorDeploymentName(model.metadata.name, t)),
    ),
    ...(cache.monitoringApis ? { monitoringApis: cache.monitoringApis } : {}),
    ...alertRulesOf(model, cache),
    now,
  };
}

/** The model's PrometheusRule (named after it, controlled by it) and the refusals of rules named like it. */
function alertRulesOf(model: TradingModel, cache: NamespaceCache): Pick<Observed, "alertRules"> {
  if (!cache.prometheusRules || !cache.ruleRejections) return {};
  const name = model.metadata.name;
  const stored = cache.prometheusRules.find((r) => r.metadata?.name === name && controlledBy(r, model));
  const rejections = cache.ruleRejections.filter((e) => e.involvedObject.name === name);
  return { alertRules: { ...(stored ? { stored } : {}), rejections } };
}

/** The work-queue key of a TradingModel. */
export const modelKey = (object: KubernetesObject) =>
  `${object.metadata?.namespace}/${object.metadata?.name}`;

/** The TradingModel a watched child belongs to, as a work-queue key (list items carry no kind, so no guessing from it). */
export function ownerKey(object: KubernetesObject): string | undefined {
  const namespace = object.metadata?.namespace;
  if (!namespace) return undefined;
  const controller = (object.metadata?.ownerReferences ?? []).find(
    (ref) => ref.controller === true && ref.kind === "TradingModel",
  );
  const model = controller?.name ?? object.metadata?.labels?.[LABEL_MODEL];
  return model ? `${namespace}/${model}` : undefined;
}

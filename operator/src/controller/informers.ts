import {
  type CoreV1Event,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  ListWatch,
  type ObjectCache,
  type V1ConfigMap,
  type V1Deployment,
  type V1Job,
  type V1Pod,
  type V2HorizontalPodAutoscaler,
  Watch,
} from "@kubernetes/client-node";
import type { Logger } from "pino";
import { type BackoffPolicy, backoffDelay } from "../../../predictor/src/backoff.ts";
import { GROUP, VERSION } from "../api/crd.ts";
import type { ModelVersion, TradingModel } from "../api/types.ts";
import { LABEL_COMPONENT, LABEL_MODEL } from "../manifests/names.ts";
import { PROMETHEUS_RULE_API_VERSION } from "../manifests/prometheus-rule.ts";
import { INVALID_RULES_REASON } from "../reconcile/monitoring.ts";
import { describeError, type KubeClient, statusCode } from "./kube-client.ts";
import { modelKey, type NamespaceCache, ownerKey } from "./observe.ts";
import type { CacheReader } from "./reconciler.ts";

interface WatchedResource {
  kind: string;
  /** API path prefix: /api/v1 or /apis/<group>/<version>. */
  prefix: string;
  plural: string;
  labelSelector?: string;
  fieldSelector?: string;
  /**
   * Served only where a CRD is installed (prometheus-operator's): while the list answers 404 the
   * cache counts as synced and empty, and the watch is tried again after the restart backoff.
   */
  optional?: true;
  keyOf: (object: KubernetesObject) => string | undefined;
}

const CHILD = LABEL_MODEL;

/** What the operator watches: its API and everything it creates, children selected by the model label. */
export const WATCHED: readonly WatchedResource[] = [
  { kind: "TradingModel", prefix: `/apis/${GROUP}/${VERSION}`, plural: "tradingmodels", keyOf: modelKey },
  {
    kind: "ModelVersion",
    prefix: `/apis/${GROUP}/${VERSION}`,
    plural: "modelversions",
    labelSelector: CHILD,
    keyOf: ownerKey,
  },
  { kind: "Job", prefix: "/apis/batch/v1", plural: "jobs", labelSelector: CHILD, keyOf: ownerKey },
  // Training pods are owned by their Job, not the model: they map back by the model label.
  {
    kind: "Pod",
    prefix: "/api/v1",
    plural: "pods",
    labelSelector: `${CHILD},${LABEL_COMPONENT}=trainer`,
    keyOf: (o) => {
      const model = o.metadata?.labels?.[LABEL_MODEL];
      return model && o.metadata?.namespace ? `${o.metadata.namespace}/${model}` : undefined;
    },
  },
  {
    kind: "Deployment",
    prefix: "/apis/apps/v1",
    plural: "deployments",
    labelSelector: CHILD,
    keyOf: ownerKey,
  },
  { kind: "Service", prefix: "/api/v1", plural: "services", labelSelector: CHILD, keyOf: ownerKey },
  { kind: "ConfigMap", prefix: "/api/v1", plural: "configmaps", labelSelector: CHILD, keyOf: ownerKey },
  {
    kind: "HorizontalPodAutoscaler",
    prefix: "/apis/autoscaling/v2",
    plural: "horizontalpodautoscalers",
    labelSelector: CHILD,
    keyOf: ownerKey,
  },
  {
    kind: "PrometheusRule",
    prefix: `/apis/${PROMETHEUS_RULE_API_VERSION}`,
    plural: "prometheusrules",
    labelSelector: CHILD,
    optional: true,
    keyOf: ownerKey,
  },
  // A rule loader's refusal of a model's PrometheusRule (named after the model): only these Events.
  {
    kind: "Event",
    prefix: "/api/v1",
    plural: "events",
    fieldSelector: `involvedObject.kind=PrometheusRule,reason=${INVALID_RULES_REASON}`,
    keyOf: (o) => {
      const about = (o as CoreV1Event).involvedObject;
      return about?.namespace && about.name ? `${about.namespace}/${about.name}` : undefined;
    },
  },
];

export const resourcePath = (resource: WatchedResource, namespace: string | undefined) =>
  namespace
    ? `${resource.prefix}/namespaces/${namespace}/${resource.plural}`
    : `${resource.prefix}/${resource.plural}`;

export interface InformerHooks {
  onKey: (key: string) => void;
  onError: (kind: string, err: unknown) => void;
}

interface Running {
  resource: WatchedResource;
  informer: Informer<KubernetesObject> & ObjectCache<KubernetesObject>;
  synced: boolean;
  /** An optional resource the apiserver does not serve (its list answered 404). */
  absent: boolean;
  failures: number;
  restart?: NodeJS.Timeout;
}

/**
 * One informer per watched resource, in one namespace or all. client-node's informer relists by
 * itself on 410 Gone but stops on any other error; here it is started again after a backoff that
 * grows with consecutive failures, so a flaky apiserver degrades to late events, never to a dead
 * watch.
 */
export class Informers implements CacheReader {
  private readonly running = new Map<string, Running>();
  private readonly restartPolicy: BackoffPolicy;
  private readonly log: Logger;
  private stopped = false;

  constructor(
    kc: KubeConfig,
    client: KubeClient,
    namespace: string | undefined,
    hooks: InformerHooks,
    log: Logger,
    restartPolicy: BackoffPolicy = { baseMs: 1000, maxMs: 30_000 },
  ) {
    this.log = log;
    this.restartPolicy = restartPolicy;
    for (const resource of WATCHED) {
      const path = resourcePath(resource, namespace);
      const entry = {} as Running;
      const list = async () => {
        try {
          const result = await client.listRaw(path, resource.labelSelector, resource.fieldSelector);
          Object.assign(entry, { synced: true, absent: false, failures: 0 });
          return result;
        } catch (err) {
          if (resource.optional && statusCode(err) === 404)
            Object.assign(entry, { synced: true, absent: true });
          throw err;
        }
      };
      const informer = new ListWatch(
        path,
        new Watch(kc),
        list,
        false,
        resource.labelSelector,
        resource.fieldSelector,
      );
      Object.assign(entry, { resource, informer, synced: false, absent: false, failures: 0 });
      const enqueue = (object: KubernetesObject) => {
        entry.failures = 0;
        const key = resource.keyOf(object);
        if (key) hooks.onKey(key);
      };
      informer.on("add", enqueue);
      informer.on("update", enqueue);
      informer.on("delete", enqueue);
      informer.on("error", (err) => {
        if (!entry.absent) hooks.onError(resource.kind, err);
        this.scheduleRestart(entry, err);
      });
      this.running.set(resource.kind, entry);
    }
  }

  private scheduleRestart(entry: Running, err: unknown): void {
    if (this.stopped || entry.restart) return;
    const delay = backoffDelay(this.restartPolicy, entry.failures++);
    // A CRD that is not installed is expected (docs/monitoring.md), not a failure to warn about.
    this.log[entry.absent ? "debug" : "warn"](
      { kind: entry.resource.kind, err: describeError(err), restartInMs: Math.round(delay) },
      entry.absent ? "API not served; looking again later" : "watch failed; restarting the informer",
    );
    entry.restart = setTimeout(() => {
      entry.restart = undefined;
      if (!this.stopped) void entry.informer.start().catch((e: unknown) => this.scheduleRestart(entry, e));
    }, delay);
  }

  async start(): Promise<void> {
    await Promise.all(
      [...this.running.values()].map((entry) =>
        entry.informer.start().catch((err: unknown) => this.scheduleRestart(entry, err)),
      ),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const entry of this.running.values()) {
      if (entry.restart) clearTimeout(entry.restart);
      await entry.informer.stop();
    }
  }

  /** Every informer has listed once: the caches are complete enough to reconcile from. */
  get synced(): boolean {
    return [...this.running.values()].every((e) => e.synced);
  }

  private cacheOf(kind: string) {
    const entry = this.running.get(kind);
    if (!entry) throw new Error(`${kind} is not watched`);
    return entry.informer;
  }

  /** Every cached TradingModel's key, for a full resync. */
  modelKeys(): string[] {
    return this.cacheOf("TradingModel").list().map(modelKey);
  }

  model(namespace: string, name: string): TradingModel | undefined {
    return this.cacheOf("TradingModel").get(name, namespace) as TradingModel | undefined;
  }

  find(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.running.get(kind)?.informer.get(name, namespace);
  }

  namespace(namespace: string): NamespaceCache {
    const list = <T>(kind: string) => this.cacheOf(kind).list(namespace) as T[];
    return {
      jobs: list<V1Job>("Job"),
      pods: list<V1Pod>("Pod"),
      versions: list<ModelVersion>("ModelVersion"),
      configMaps: list<V1ConfigMap>("ConfigMap"),
      deployments: list<V1Deployment>("Deployment"),
      autoscalers: list<V2HorizontalPodAutoscaler>("HorizontalPodAutoscaler"),
      prometheusRules: list<KubernetesObject>("PrometheusRule"),
      ruleRejections: list<CoreV1Event>("Event"),
    };
  }
}

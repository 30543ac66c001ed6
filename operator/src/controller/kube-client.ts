import { existsSync } from "node:fs";
import {
  ApiException,
  CoordinationV1Api,
  CustomObjectsApi,
  createConfiguration,
  EventsV1Api,
  type EventsV1Event,
  HttpMethod,
  KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  KubernetesObjectApi,
  type Middleware,
  PatchStrategy,
  RequestContext,
  ServerConfiguration,
  setHeaderOptions,
  type V1Lease,
} from "@kubernetes/client-node";
import { fetch } from "undici";
import { type RetryPolicy, retrying } from "../../../predictor/src/backoff.ts";
import { GROUP, VERSION } from "../api/crd.ts";
import { replicasHandoverManager } from "../manifests/predictor.ts";
import { LeaseConflictError, type LeaseStore, microTime, type ObservedLease } from "./leader-election.ts";

export interface NamespacedRef {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
}

/** What the reconciler writes to the apiserver: the port its unit tests fake. */
export interface ClusterWriter {
  /** Server-side apply under the operator's field manager, taking over conflicting fields. */
  apply(object: KubernetesObject): Promise<void>;
  /**
   * Server-side apply under the replicas handover's field manager (`replicasHandoverManager`),
   * without force: "owned elsewhere" when the apiserver answers Conflict, i.e. another manager (the
   * HPA) owns the field with another value, which then stays whatever the operator's apply drops.
   */
  handOver(object: KubernetesObject): Promise<"handed over" | "owned elsewhere">;
  /** Creates the object; "exists" when it already did (the operator never updates these). */
  create(object: KubernetesObject): Promise<"created" | "exists">;
  /** Deletes in the background (dependents go through the garbage collector); "absent" when already gone. */
  remove(ref: NamespacedRef): Promise<"deleted" | "absent">;
  /** Server-side applies the status subresource of a TradingModel or ModelVersion; returns the new resourceVersion. */
  applyStatus(
    kind: "TradingModel" | "ModelVersion",
    namespace: string,
    name: string,
    status: unknown,
  ): Promise<string | undefined>;
  createEvent(event: EventsV1Event): Promise<void>;
  /** Updates an Event's series (count and last time) for a repeat of it. */
  patchEventSeries(
    namespace: string,
    name: string,
    series: { count: number; lastObservedTime: string },
  ): Promise<void>;
}

export interface ClientSettings {
  fieldManager: string;
  /** Per attempt. */
  timeoutMs: number;
  retry: RetryPolicy;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

/** Network failures, timeouts, 429 and 5xx: worth another attempt. Everything else is an answer. */
export function isRetryable(err: unknown): boolean {
  if (err instanceof ApiException) return err.code === 429 || err.code >= 500 || err.code === 0;
  return true;
}

export const statusCode = (err: unknown) => (err instanceof ApiException ? err.code : undefined);

/** A short, loggable description of an apiserver error. */
export function describeError(err: unknown): string {
  if (err instanceof ApiException) {
    const body = err.body as { message?: string } | string | undefined;
    const message = typeof body === "string" ? body : body?.message;
    return `HTTP ${err.code}: ${message ?? err.message}`.slice(0, 1000);
  }
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}

/** Gives each request its own deadline, set when the request is about to be sent. */
function timeoutMiddleware(ms: number): Middleware {
  return {
    pre: async (request) => {
      request.setSignal(AbortSignal.timeout(ms));
      return request;
    },
    post: async (response) => response,
  };
}

const SERVICE_ACCOUNT_TOKEN = "/var/run/secrets/kubernetes.io/serviceaccount/token";

/**
 * The cluster to talk to: the named kubeconfig file; inside a pod, its ServiceAccount (before any
 * ~/.kube/config a process-based node may leave visible); else client-node's default search.
 */
export function loadKubeConfig(file: string | undefined, env: NodeJS.ProcessEnv = process.env): KubeConfig {
  const kc = new KubeConfig();
  if (file) kc.loadFromFile(file);
  else if (env.KUBERNETES_SERVICE_HOST && existsSync(SERVICE_ACCOUNT_TOKEN)) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** A client configuration like KubeConfig.makeApiClient's, plus a timeout on every request. */
function configuration(kc: KubeConfig, timeoutMs: number) {
  const cluster = kc.getCurrentCluster();
  if (!cluster) throw new Error("the kubeconfig has no current cluster");
  return createConfiguration({
    baseServer: new ServerConfiguration(cluster.server, {}),
    authMethods: { default: kc },
    promiseMiddleware: [timeoutMiddleware(timeoutMs)],
  });
}

const PLURALS = { TradingModel: "tradingmodels", ModelVersion: "modelversions" } as const;

export class KubeClient implements ClusterWriter {
  private readonly kc: KubeConfig;
  private readonly settings: ClientSettings;
  private readonly objects: KubernetesObjectApi;
  private readonly custom: CustomObjectsApi;
  private readonly events: EventsV1Api;
  private readonly coordination: CoordinationV1Api;

  constructor(kc: KubeConfig, settings: ClientSettings) {
    this.kc = kc;
    this.settings = settings;
    const config = configuration(kc, settings.timeoutMs);
    this.objects = new KubernetesObjectApi(config);
    this.custom = new CustomObjectsApi(config);
    this.events = new EventsV1Api(config);
    this.coordination = new CoordinationV1Api(config);
  }

  private call<T>(run: () => Promise<T>): Promise<T> {
    return retrying(run, {
      policy: this.settings.retry,
      retryable: isRetryable,
      ...(this.settings.onRetry ? { onRetry: this.settings.onRetry } : {}),
    });
  }

  async apply(object: KubernetesObject): Promise<void> {
    await this.call(() =>
      this.objects.patch(
        object,
        undefined,
        undefined,
        this.settings.fieldManager,
        true,
        PatchStrategy.ServerSideApply,
      ),
    );
  }

  async handOver(object: KubernetesObject): Promise<"handed over" | "owned elsewhere"> {
    const manager = replicasHandoverManager(this.settings.fieldManager);
    try {
      await this.call(() =>
        this.objects.patch(object, undefined, undefined, manager, false, PatchStrategy.ServerSideApply),
      );
      return "handed over";
    } catch (err) {
      if (statusCode(err) === 409) return "owned elsewhere";
      throw err;
    }
  }

  async create(object: KubernetesObject): Promise<"created" | "exists"> {
    try {
      await this.call(() => this.objects.create(object, undefined, undefined, this.settings.fieldManager));
      return "created";
    } catch (err) {
      if (statusCode(err) === 409) return "exists";
      throw err;
    }
  }

  /** The resources (plural names) the cluster serves in group/version; none when it serves no such API. */
  async servedResources(group: string, version: string): Promise<Set<string>> {
    try {
      const list = await this.call(() => this.custom.getAPIResources({ group, version }));
      return new Set(list.resources.map((r) => r.name));
    } catch (err) {
      if (statusCode(err) === 404) return new Set();
      throw err;
    }
  }

  /** The object, or undefined when it does not exist. */
  async read<T extends KubernetesObject>(ref: NamespacedRef): Promise<T | undefined> {
    const spec = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
    };
    try {
      return (await this.call(() => this.objects.read(spec))) as T;
    } catch (err) {
      if (statusCode(err) === 404) return undefined;
      throw err;
    }
  }

  async remove(ref: NamespacedRef): Promise<"deleted" | "absent"> {
    const spec = {
      apiVersion: ref.apiVersion,
      kind: ref.kind,
      metadata: { name: ref.name, namespace: ref.namespace },
    };
    try {
      await this.call(() =>
        this.objects.delete(spec, undefined, undefined, undefined, undefined, "Background"),
      );
      return "deleted";
    } catch (err) {
      if (statusCode(err) === 404) return "absent";
      throw err;
    }
  }

  async applyStatus(
    kind: "TradingModel" | "ModelVersion",
    namespace: string,
    name: string,
    status: unknown,
  ): Promise<string | undefined> {
    const body = { apiVersion: `${GROUP}/${VERSION}`, kind, metadata: { name, namespace }, status };
    const written = (await this.call(() =>
      this.custom.patchNamespacedCustomObjectStatus(
        {
          group: GROUP,
          version: VERSION,
          namespace,
          plural: PLURALS[kind],
          name,
          body,
          fieldManager: this.settings.fieldManager,
          force: true,
        },
        setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
      ),
    )) as KubernetesObject;
    return written.metadata?.resourceVersion;
  }

  async createEvent(event: EventsV1Event): Promise<void> {
    const namespace = event.metadata?.namespace ?? "default";
    await this.call(() => this.events.createNamespacedEvent({ namespace, body: event }));
  }

  async patchEventSeries(
    namespace: string,
    name: string,
    series: { count: number; lastObservedTime: string },
  ): Promise<void> {
    await this.call(() =>
      this.events.patchNamespacedEvent(
        { name, namespace, body: { series } },
        setHeaderOptions("Content-Type", PatchStrategy.MergePatch),
      ),
    );
  }

  /**
   * Lists in the wire format (timestamps as strings), like the watch events that follow, so an
   * informer's cache holds objects of one shape. Used as the informers' list function.
   */
  async listRaw<T extends KubernetesObject>(
    path: string,
    labelSelector?: string,
    fieldSelector?: string,
  ): Promise<KubernetesListObject<T>> {
    const cluster = this.kc.getCurrentCluster();
    if (!cluster) throw new Error("the kubeconfig has no current cluster");
    const url = new URL(cluster.server + path);
    if (labelSelector) url.searchParams.set("labelSelector", labelSelector);
    if (fieldSelector) url.searchParams.set("fieldSelector", fieldSelector);
    return this.call(async () => {
      const request = new RequestContext(url.toString(), HttpMethod.GET);
      await this.kc.applySecurityAuthentication(request);
      const response = await fetch(url, {
        headers: request.getHeaders(),
        dispatcher: request.getDispatcher(),
        signal: AbortSignal.timeout(this.settings.timeoutMs),
      });
      const text = await response.text();
      if (!response.ok) {
        throw new ApiException(response.status, `list ${path}`, safeJson(text), {});
      }
      return JSON.parse(text) as KubernetesListObject<T>;
    });
  }

  /** The election's Lease. Its calls are not retried here: the elector retries every retry period. */
  leaseStore(namespace: string, name: string): LeaseStore {
    const api = this.coordination;
    const observed = (lease: V1Lease): ObservedLease => ({
      spec: {
        ...(lease.spec?.holderIdentity === undefined ? {} : { holderIdentity: lease.spec.holderIdentity }),
        ...(lease.spec?.leaseDurationSeconds === undefined
          ? {}
          : { leaseDurationSeconds: lease.spec.leaseDurationSeconds }),
        ...(lease.spec?.acquireTime === undefined ? {} : { acquireTime: wireTime(lease.spec.acquireTime) }),
        ...(lease.spec?.renewTime === undefined ? {} : { renewTime: wireTime(lease.spec.renewTime) }),
        ...(lease.spec?.leaseTransitions === undefined
          ? {}
          : { leaseTransitions: lease.spec.leaseTransitions }),
      },
      resourceVersion: lease.metadata?.resourceVersion ?? "",
    });
    const metadata = {
      name,
      namespace,
      labels: { "app.kubernetes.io/managed-by": this.settings.fieldManager },
    };
    return {
      async get() {
        try {
          return observed(await api.readNamespacedLease({ name, namespace }));
        } catch (err) {
          if (statusCode(err) === 404) return undefined;
          throw err;
        }
      },
      async create(spec) {
        const body = { apiVersion: "coordination.k8s.io/v1", kind: "Lease", metadata, spec };
        return observed(await api.createNamespacedLease({ namespace, body: body as never }));
      },
      async update(spec, resourceVersion) {
        const body = {
          apiVersion: "coordination.k8s.io/v1",
          kind: "Lease",
          metadata: { ...metadata, resourceVersion },
          spec,
        };
        try {
          return observed(await api.replaceNamespacedLease({ name, namespace, body: body as never }));
        } catch (err) {
          if (statusCode(err) === 409) throw new LeaseConflictError(describeError(err));
          throw err;
        }
      },
    };
  }
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A MicroTime as the apiserver sent it, whether the client kept the string or made it a Date. */
const wireTime = (time: unknown) => (time instanceof Date ? microTime(time) : String(time));

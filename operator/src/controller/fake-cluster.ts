import type { EventsV1Event, KubernetesObject } from "@kubernetes/client-node";
import { ApiException } from "@kubernetes/client-node";
import type { ModelVersion, TradingModel } from "../api/types.ts";
import type { ClusterWriter, NamespacedRef } from "./kube-client.ts";
import type { NamespaceCache } from "./observe.ts";
import type { CacheReader } from "./reconciler.ts";

/**
 * A test double of the apiserver and the informers' caches for the adapter's unit tests: writes
 * land in `stored`; the cache shows them only after `sync()` (informers lag behind writes), and
 * `calls` records every write in order. Failures are injected per call prefix.
 */
export class FakeCluster implements ClusterWriter, CacheReader {
  readonly stored = new Map<string, KubernetesObject>();
  private cached = new Map<string, KubernetesObject>();
  readonly calls: string[] = [];
  readonly failures = new Map<string, ApiException<unknown>>();
  private rv = 100;

  private static id(kind: string, namespace: string, name: string) {
    return `${kind}/${namespace}/${name}`;
  }

  /** Puts an object into the apiserver and the cache (as if it had been there all along). */
  seed(object: KubernetesObject): void {
    const copy = structuredClone(object);
    copy.metadata = { ...copy.metadata, resourceVersion: String(++this.rv) };
    const id = FakeCluster.id(copy.kind ?? "", copy.metadata.namespace ?? "", copy.metadata.name ?? "");
    this.stored.set(id, copy);
    this.cached.set(id, structuredClone(copy));
  }

  /** The informers catch up with everything written. */
  sync(): void {
    this.cached = new Map([...this.stored].map(([k, v]) => [k, structuredClone(v)]));
  }

  fail(callPrefix: string, code: number, message: string): void {
    this.failures.set(callPrefix, new ApiException(code, message, { message }, {}));
  }

  private record(call: string): void {
    this.calls.push(call);
    for (const [prefix, err] of this.failures) if (call.startsWith(prefix)) throw err;
  }

  private write(object: KubernetesObject): void {
    const id = FakeCluster.id(
      object.kind ?? "",
      object.metadata?.namespace ?? "",
      object.metadata?.name ?? "",
    );
    const previous = this.stored.get(id);
    this.stored.set(id, {
      ...previous,
      ...structuredClone(object),
      metadata: { ...previous?.metadata, ...object.metadata, resourceVersion: String(++this.rv) },
    });
  }

  async apply(object: KubernetesObject): Promise<void> {
    this.record(`apply ${object.kind}/${object.metadata?.name}`);
    this.write(object);
  }

  /** Records the handover; the stored object keeps its count (the fake keeps no field owners). */
  async handOver(object: KubernetesObject): Promise<"handed over" | "owned elsewhere"> {
    try {
      this.record(`handover ${object.kind}/${object.metadata?.name}`);
    } catch (err) {
      if ((err as ApiException<unknown>).code === 409) return "owned elsewhere";
      throw err;
    }
    return "handed over";
  }

  async create(object: KubernetesObject): Promise<"created" | "exists"> {
    this.record(`create ${object.kind}/${object.metadata?.name}`);
    const id = FakeCluster.id(
      object.kind ?? "",
      object.metadata?.namespace ?? "",
      object.metadata?.name ?? "",
    );
    if (this.stored.has(id)) return "exists";
    this.write(object);
    return "created";
  }

  async remove(ref: NamespacedRef): Promise<"deleted" | "absent"> {
    this.record(`delete ${ref.kind}/${ref.name}`);
    return this.stored.delete(FakeCluster.id(ref.kind, ref.namespace, ref.name)) ? "deleted" : "absent";
  }

  async applyStatus(kind: string, namespace: string, name: string, status: unknown): Promise<string> {
    this.record(`status ${kind}/${name}`);
    const id = FakeCluster.id(kind, namespace, name);
    const object = this.stored.get(id);
    if (!object) throw new ApiException(404, "not found", {}, {});
    const rv = String(++this.rv);
    this.stored.set(id, {
      ...object,
      status,
      metadata: { ...object.metadata, resourceVersion: rv },
    } as KubernetesObject);
    return rv;
  }

  readonly events: EventsV1Event[] = [];
  async createEvent(event: EventsV1Event): Promise<void> {
    this.record(`event ${event.reason}`);
    this.events.push(event);
  }

  async patchEventSeries(
    _namespace: string,
    name: string,
    series: { count: number; lastObservedTime: string },
  ): Promise<void> {
    this.record(`series ${name} ${series.count}`);
  }

  model(namespace: string, name: string): TradingModel | undefined {
    return this.find("TradingModel", namespace, name) as TradingModel | undefined;
  }

  find(kind: string, namespace: string, name: string): KubernetesObject | undefined {
    return this.cached.get(FakeCluster.id(kind, namespace, name));
  }

  namespace(namespace: string): NamespaceCache {
    const of = <T>(kind: string) =>
      [...this.cached.values()].filter((o) => o.kind === kind && o.metadata?.namespace === namespace) as T[];
    return {
      jobs: of("Job"),
      pods: of("Pod"),
      versions: of<ModelVersion>("ModelVersion"),
      configMaps: of("ConfigMap"),
      deployments: of("Deployment"),
      autoscalers: of("HorizontalPodAutoscaler"),
    };
  }
}

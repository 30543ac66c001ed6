import { ApiException, type KubeConfig, type KubernetesObject } from "@kubernetes/client-node";
import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import type { KubeClient } from "./kube-client.ts";

/** Stands in for client-node's ListWatch: the test fires its callbacks and counts its starts. */
class FakeInformer {
  readonly handlers = new Map<string, ((arg: unknown) => void)[]>();
  starts = 0;
  objects: KubernetesObject[] = [];
  readonly path: string;
  readonly fieldSelector: string | undefined;
  private readonly listFn: () => Promise<unknown>;
  constructor(
    path: string,
    _watch: unknown,
    listFn: () => Promise<unknown>,
    _autoStart: boolean,
    _labelSelector?: string,
    fieldSelector?: string,
  ) {
    this.path = path;
    this.listFn = listFn;
    this.fieldSelector = fieldSelector;
  }
  on(verb: string, cb: (arg: unknown) => void) {
    this.handlers.set(verb, [...(this.handlers.get(verb) ?? []), cb]);
  }
  fire(verb: string, arg: unknown) {
    for (const cb of this.handlers.get(verb) ?? []) cb(arg);
  }
  async start() {
    // Like ListWatch, a restart resumes from the last resourceVersion: only the first start lists
    // (or every start while listing fails, reported as an error).
    this.starts++;
    if (this.listed) return;
    try {
      await this.listFn();
      this.listed = true;
    } catch (err) {
      this.fire("error", err);
    }
  }
  private listed = false;
  async stop() {}
  get(name: string, namespace?: string) {
    return this.objects.find((o) => o.metadata?.name === name && o.metadata?.namespace === namespace);
  }
  list() {
    return this.objects;
  }
}

const made: FakeInformer[] = [];
vi.mock("@kubernetes/client-node", async (importOriginal) => ({
  ...(await importOriginal<object>()),
  // Called with `new`: a constructor that returns an object makes that object the instance.
  ListWatch: function ListWatch(...args: ConstructorParameters<typeof FakeInformer>) {
    const informer = new FakeInformer(...args);
    made.push(informer);
    return informer;
  },
}));

const { Informers } = await import("./informers.ts");

const client = { listRaw: async () => ({ items: [], metadata: {} }) } as unknown as KubeClient;
const byPath = (suffix: string) => {
  const found = made.find((i) => i.path.endsWith(suffix));
  if (!found) throw new Error(`no informer for ${suffix}`);
  return found;
};

describe("Informers", () => {
  beforeEach(() => {
    made.length = 0;
    vi.useFakeTimers();
  });
  afterEach(() => vi.useRealTimers());

  it("watches the operator's resources in one namespace and maps events to the owning model", async () => {
    const keys: string[] = [];
    const informers = new Informers(
      {} as KubeConfig,
      client,
      "trading",
      { onKey: (k) => keys.push(k), onError: () => {} },
      pino({ level: "silent" }),
    );
    expect(made.map((i) => i.path)).toEqual([
      "/apis/trading.mlops.dev/v1alpha1/namespaces/trading/tradingmodels",
      "/apis/trading.mlops.dev/v1alpha1/namespaces/trading/modelversions",
      "/apis/batch/v1/namespaces/trading/jobs",
      "/api/v1/namespaces/trading/pods",
      "/apis/apps/v1/namespaces/trading/deployments",
      "/api/v1/namespaces/trading/services",
      "/api/v1/namespaces/trading/configmaps",
      "/apis/autoscaling/v2/namespaces/trading/horizontalpodautoscalers",
      "/apis/monitoring.coreos.com/v1/namespaces/trading/prometheusrules",
      "/api/v1/namespaces/trading/events",
    ]);
    expect(byPath("events").fieldSelector).toBe("involvedObject.kind=PrometheusRule,reason=InvalidRules");
    expect(informers.synced).toBe(false);
    await informers.start();
    expect(informers.synced).toBe(true);
    byPath("tradingmodels").fire("add", { metadata: { name: "spy", namespace: "trading" } });
    byPath("jobs").fire("update", {
      metadata: {
        namespace: "trading",
        ownerReferences: [{ kind: "TradingModel", name: "spy", controller: true }],
      },
    });
    byPath("pods").fire("delete", {
      metadata: { namespace: "trading", labels: { "trading.mlops.dev/model": "spy" } },
    });
    byPath("events").fire("add", {
      metadata: { name: "spy.18a2", namespace: "trading" },
      involvedObject: { kind: "PrometheusRule", namespace: "trading", name: "spy" },
    });
    expect(keys).toEqual(["trading/spy", "trading/spy", "trading/spy", "trading/spy"]);
  });

  it("starts an informer again after an error, with a backoff that grows while it keeps failing", async () => {
    const errors: string[] = [];
    const informers = new Informers(
      {} as KubeConfig,
      client,
      undefined,
      { onKey: () => {}, onError: (kind) => errors.push(kind) },
      pino({ level: "silent" }),
      { baseMs: 1000, maxMs: 30_000 },
    );
    await informers.start();
    const jobs = byPath("/apis/batch/v1/jobs");
    expect(jobs.starts).toBe(1);
    jobs.fire("error", new Error("connection reset"));
    await vi.advanceTimersByTimeAsync(1000);
    expect(jobs.starts).toBe(2);
    jobs.fire("error", new Error("connection reset"));
    await vi.advanceTimersByTimeAsync(999);
    expect(jobs.starts).toBe(2);
    await vi.advanceTimersByTimeAsync(1001);
    expect(jobs.starts).toBe(3);
    expect(errors).toEqual(["Job", "Job"]);
    await informers.stop();
    jobs.fire("error", new Error("aborted"));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(jobs.starts).toBe(3);
  });

  /** Informers of all namespaces over a client whose lists of `notFound` answer 404; errors recorded. */
  function over404(notFound: string) {
    const errors: string[] = [];
    const listing = {
      listRaw: async (path: string) => {
        if (path.includes(notFound)) throw new ApiException(404, "not found", {}, {});
        return { items: [], metadata: {} };
      },
    } as unknown as KubeClient;
    const informers = new Informers(
      {} as KubeConfig,
      listing,
      undefined,
      { onKey: () => {}, onError: (kind) => errors.push(kind) },
      pino({ level: "silent" }),
      { baseMs: 1000, maxMs: 30_000 },
    );
    return { informers, errors };
  }

  it("counts an optional API the apiserver does not serve as synced and empty, and looks again quietly", async () => {
    const { informers, errors } = over404("prometheusrules");
    await informers.start();
    expect(informers.synced).toBe(true);
    expect(informers.namespace("trading").prometheusRules).toEqual([]);
    await vi.advanceTimersByTimeAsync(1000);
    expect(byPath("/prometheusrules").starts).toBe(2);
    expect(errors).toEqual([]);
    await informers.stop();
  });

  it("is not synced while a required API answers 404", async () => {
    const { informers, errors } = over404("tradingmodels");
    await informers.start();
    expect(informers.synced).toBe(false);
    expect(errors).toEqual(["TradingModel"]);
    await informers.stop();
  });
});

// Autoscaling added to a model already serving on a fixed count, on the local cluster (its
// kube-controller-manager runs the HPA controller). The operator's applies owned the stable
// Deployment's spec.replicas; its first apply without the field must not let it go back to the
// default of one pod before the HPA takes it over. The stable Deployment is read every 200 ms and
// watched (every write of it seen) from before the change until the HPA has synced. Then autoscaling
// goes again, and the operator's count is back in force.
import { AppsV1Api, type V1Deployment, type V2HorizontalPodAutoscaler, Watch } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { patchSpec } from "../flows/lib/models.ts";
import { getJson, kubeConfig } from "../support/kubectl.ts";
import { waitFor } from "../support/wait.ts";
import { LIVE_CHECKS, MODEL, useServedModel } from "./support.ts";

const STABLE = `${MODEL}-predictor`;
const REPLICAS = 3;
const AUTOSCALING = { minReplicas: REPLICAS, maxReplicas: 5, targetCPUUtilizationPercentage: 80 };
const SAMPLE_MS = 200;

type Sample = { at: number; from: "poll" | "watch"; replicas?: number; ready: number; managers: string[] };

const sampleOf = (d: V1Deployment, from: Sample["from"]): Sample => ({
  at: Date.now(),
  from,
  ...(d.spec?.replicas === undefined ? {} : { replicas: d.spec.replicas }),
  ready: d.status?.readyReplicas ?? 0,
  // Who owns spec.replicas (manager/operation).
  managers: (d.metadata?.managedFields ?? [])
    .filter((f) => (f.fieldsV1 as { "f:spec"?: { "f:replicas"?: object } })["f:spec"]?.["f:replicas"])
    .map((f) => `${f.manager}/${f.operation}`),
});

/** Reads the stable Deployment with its managedFields (which kubectl get leaves out). */
function stableReader(namespace: string): () => Promise<V1Deployment> {
  const apps = kubeConfig().makeApiClient(AppsV1Api);
  return () => apps.readNamespacedDeployment({ name: STABLE, namespace });
}

/** The stable Deployment read every 200 ms and watched, until stopped. */
function recorder(namespace: string) {
  const samples: Sample[] = [];
  const readStable = stableReader(namespace);
  let stopped = false;
  const polling = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        samples.push(sampleOf(await readStable(), "poll"));
      } catch {
        // A slow apiserver skips a sample; the watch still sees every write.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, at + SAMPLE_MS - Date.now())));
    }
  })();
  const watching = new Watch(kubeConfig()).watch(
    `/apis/apps/v1/namespaces/${namespace}/deployments`,
    { fieldSelector: `metadata.name=${STABLE}` },
    (_type, object: V1Deployment) => samples.push(sampleOf(object, "watch")),
    () => {},
  );
  return {
    samples,
    async stop() {
      stopped = true;
      await polling;
      (await watching).abort();
      return samples;
    },
  };
}

/** One line per change of what a sample shows. */
function timeline(samples: Sample[], from: number): string {
  const lines: string[] = [];
  let last = "";
  for (const s of samples) {
    const line = `replicas=${s.replicas} ready=${s.ready} owners=${s.managers.join(",")}`;
    if (line !== last) lines.push(`+${((s.at - from) / 1000).toFixed(1)}s ${s.from} ${line}`);
    last = line;
  }
  return lines.join("\n");
}

describe("autoscaling added to a model serving on a fixed count", () => {
  const served = useServedModel("e2e-handover", {
    serving: { replicas: REPLICAS },
    rollout: { strategy: "Canary", canary: { steps: [50, 100] } },
    analysis: LIVE_CHECKS,
  });
  const ns = served.namespace;

  it("keeps stable's pods while its HPA takes over the count: it never drops to one", async () => {
    await waitFor(
      `all ${REPLICAS} stable pods ready`,
      async () =>
        (await getJson<V1Deployment>(["deployment", STABLE, "-n", ns])).status?.readyReplicas === REPLICAS,
      { timeoutMs: 120_000 },
    );
    const watch = recorder(ns);
    try {
      await new Promise((r) => setTimeout(r, 2_000));
      const changedAt = Date.now();
      await patchSpec(ns, MODEL, { serving: { replicas: REPLICAS, autoscaling: AUTOSCALING } });
      // The HPA exists and has synced: it has read the Deployment's scale and decided a count.
      await waitFor(
        "stable's HPA synced",
        async () => {
          const hpa = await getJson<V2HorizontalPodAutoscaler>(["hpa", STABLE, "-n", ns]);
          return hpa.status?.desiredReplicas !== undefined && (hpa.status.conditions?.length ?? 0) > 0;
        },
        { timeoutMs: 60_000 },
      );
      // A drop would show within a few seconds of the change: the pods go at once (no surge).
      await new Promise((r) => setTimeout(r, 10_000));
      const samples = await watch.stop();
      console.log(timeline(samples, changedAt));
      const after = samples.filter((s) => s.at >= changedAt);
      expect(after.filter((s) => s.from === "poll").length).toBeGreaterThan(30);
      const fewest = Math.min(...after.map((s) => s.replicas ?? 0));
      const fewestReady = Math.min(...after.map((s) => s.ready));
      console.log(
        `after the change (${after.length} samples): spec.replicas at least ${fewest}, ready pods at least ${fewestReady}`,
      );
      expect(fewest).toBe(REPLICAS);
      expect(fewestReady).toBe(REPLICAS);
      // The operator's applies own the count no more (the handover's manager does, until the HPA
      // first changes it).
      const last = samples.at(-1);
      expect(last?.managers).not.toContain("tradingmodel-operator/Apply");

      // Back to a fixed count, another one: the operator's apply takes the field back from the
      // handover's manager (force), and the HPA goes.
      await patchSpec(ns, MODEL, { serving: { replicas: REPLICAS + 1, autoscaling: null } });
      const fixed = await waitFor(
        `stable back on a fixed ${REPLICAS + 1} pods, its HPA gone`,
        async () => {
          const [deployment, hpas] = await Promise.all([
            stableReader(ns)(),
            getJson<{ items: V2HorizontalPodAutoscaler[] }>(["hpa", "-n", ns]),
          ]);
          return deployment.spec?.replicas === REPLICAS + 1 && hpas.items.length === 0 && deployment;
        },
        { timeoutMs: 30_000 },
      );
      expect(sampleOf(fixed, "poll").managers).toEqual(["tradingmodel-operator/Apply"]);
    } finally {
      await watch.stop();
    }
  }, 180_000);
});

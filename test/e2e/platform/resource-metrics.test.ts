// The resource metrics API serves pod CPU and memory, and a HorizontalPodAutoscaler computes its
// replica count from it: the HPA can act.
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { beforeAll, describe, expect, it } from "vitest";
import { apply, getJson, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { readyPods } from "../support/pods.ts";
import { deployPredictor } from "../support/predictor.ts";
import { waitFor } from "../support/wait.ts";

const ns = useNamespace("e2e-hpa");

beforeAll(async () => {
  await deployPredictor({ namespace: ns.name, name: "scaled", replicas: 1 });
  // CPU utilization is relative to the request; the predictor's pod template sets none.
  await kubectl(["set", "resources", "deployment/scaled", "-n", ns.name, "--requests=cpu=100m,memory=64Mi"]);
  await waitFor(
    "the rollout with CPU requests",
    async () => {
      const pods = await readyPods(ns.name, "app=scaled");
      return pods.length === 1 && pods[0]?.spec?.containers[0]?.resources?.requests?.cpu === "100m";
    },
    { timeoutMs: 120_000 },
  );
  await apply({
    apiVersion: "autoscaling/v2",
    kind: "HorizontalPodAutoscaler",
    metadata: { namespace: ns.name, name: "scaled" },
    spec: {
      scaleTargetRef: { apiVersion: "apps/v1", kind: "Deployment", name: "scaled" },
      minReplicas: 1,
      maxReplicas: 3,
      metrics: [
        {
          type: "Resource",
          resource: { name: "cpu", target: { type: "Utilization", averageUtilization: 80 } },
        },
      ],
    },
  });
});

describe("resource metrics", () => {
  it("gives each running pod its CPU and memory (kubectl top)", async () => {
    const [pod] = await readyPods(ns.name, "app=scaled");
    const line = await waitFor(
      "kubectl top for the predictor pod",
      async () =>
        (await kubectl(["top", "pod", "-n", ns.name, "--no-headers"]))
          .split("\n")
          .find((l) => l.startsWith(pod?.metadata?.name ?? "?")),
      { timeoutMs: 90_000, intervalMs: 2_000 },
    );
    const [, cpu, memory] = line.trim().split(/\s+/);
    expect(cpu).toMatch(/^\d+m$/);
    expect(memory).toMatch(/^\d+Mi$/);
    expect(Number.parseInt(memory ?? "0", 10)).toBeGreaterThan(10);
  });

  it("lets the HorizontalPodAutoscaler compute a utilization and be able to scale", async () => {
    const hpa = await waitFor(
      "the HPA to report CPU utilization",
      async () => {
        const h = await getJson<V2HorizontalPodAutoscaler>(["hpa", "scaled", "-n", ns.name]);
        return h.status?.currentMetrics?.[0]?.resource?.current?.averageUtilization !== undefined
          ? h
          : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 2_000 },
    );
    const active = hpa.status?.conditions?.find((c) => c.type === "ScalingActive");
    expect(active?.status).toBe("True");
    expect(active?.reason).toBe("ValidMetricFound");
    expect(hpa.status?.currentMetrics?.[0]?.resource?.name).toBe("cpu");
  });
});

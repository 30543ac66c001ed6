import { describe, expect, it } from "vitest";
import { predictorDeployment } from "../manifests/predictor.ts";
import { storedModel, storedVersion } from "../testing/fixtures.ts";
import { replicasRouter } from "./replicas.ts";

// spy-momentum autoscales stable between 2 and 10 pods.
const model = storedModel();
const v1 = storedVersion(1).spec;
const v2 = storedVersion(2).spec;

/** Stable as the cluster shows it: the autoscaler's count in spec, the pods that exist in status. */
function stableDeployment(version: typeof v1, replicas: number, podsExisting: number) {
  const d = predictorDeployment({ model, version, track: "stable", image: "predictor:test" });
  d.spec = { ...(d.spec as NonNullable<typeof d.spec>), replicas };
  d.status = { replicas: podsExisting, readyReplicas: Math.min(replicas, podsExisting), updatedReplicas: 1 };
  return d;
}

describe("the Replicas router with an autoscaled stable", () => {
  it("counts the pods the autoscaler asked for as stable's capacity, not a promotion's surge pod", () => {
    // Promoting: stable rolls to v2 one surge pod at a time, 4 pods existing for the HPA's 3.
    const routing = replicasRouter.route({
      model,
      image: "predictor:test",
      stable: v2,
      candidate: { version: v2, weight: 50, track: "canary" },
      deployments: [stableDeployment(v1, 3, 4)],
      stableFloor: 3,
      autoscalerExists: true,
    });
    expect(routing.stableReplicas).toBe(3);
    expect(routing.candidateReplicas).toBe(3);
    const hpa = routing.apply.find((o) => o.kind === "HorizontalPodAutoscaler") as {
      spec: { minReplicas: number };
    };
    expect(hpa.spec.minReplicas).toBe(3);
  });

  it("follows the autoscaler's count as soon as it scales stable up, before the pods exist", () => {
    const routing = replicasRouter.route({
      model,
      image: "predictor:test",
      stable: v1,
      candidate: { version: v2, weight: 50, track: "canary" },
      deployments: [stableDeployment(v1, 4, 2)],
      stableFloor: 2,
      autoscalerExists: true,
    });
    expect(routing).toMatchObject({ stableReplicas: 4, candidateReplicas: 4, achievableWeight: 50 });
  });
});

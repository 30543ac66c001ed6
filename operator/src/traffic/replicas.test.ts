import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import type { Track } from "../manifests/names.ts";
import { predictorDeployment } from "../manifests/predictor.ts";
import { storedModel, storedVersion } from "../testing/fixtures.ts";
import { candidateBounds, candidateReplicas, replicasRouter } from "./replicas.ts";
import type { CandidateTrack, Routing } from "./router.ts";

// spy-momentum autoscales stable between 2 and 10 pods; mean-reversion-bluegreen runs 2 fixed pods.
const model = storedModel();
const v1 = storedVersion(1).spec;
const v2 = storedVersion(2).spec;

/** A Deployment as the cluster shows it: its autoscaler's count in spec, the pods that exist in status. */
function observed(track: Track, version: typeof v1, replicas: number, podsExisting = replicas) {
  const d = predictorDeployment({ model, version, track, image: "predictor:test" });
  d.spec = { ...(d.spec as NonNullable<typeof d.spec>), replicas };
  d.status = { replicas: podsExisting, readyReplicas: Math.min(replicas, podsExisting), updatedReplicas: 1 };
  return d;
}

const autoscaler = (routing: Routing, track: Track) =>
  routing.apply.find(
    (o) =>
      o.kind === "HorizontalPodAutoscaler" &&
      o.metadata?.name?.endsWith(track === "stable" ? "predictor" : track),
  ) as V2HorizontalPodAutoscaler | undefined;
const bounds = (routing: Routing, track: Track) => {
  const spec = autoscaler(routing, track)?.spec;
  return spec && [spec.minReplicas, spec.maxReplicas];
};

describe("candidateReplicas: canary pods for a weight beside stable's", () => {
  it.each([
    // weight, stable pods, canary pods (weight in effect)
    [0, 4, 0],
    [5, 2, 1], // 33%: the smallest weight 2 stable pods allow
    [25, 2, 1],
    [25, 6, 2], // 25%
    [50, 3, 3],
    [100, 3, 3],
  ])("%i%% beside %i stable pods: %i", (weight, stable, canary) => {
    expect(candidateReplicas(weight, stable)).toBe(canary);
  });
});

describe("candidateBounds: a candidate's autoscaler bounds", () => {
  it.each<[CandidateTrack, number, number, number, [number, number]]>([
    // track, weight, stable pods, stable's maxReplicas, [min, max]
    ["canary", 5, 2, 10, [1, 1]], // never below one pod, and 5% of 10 is still one
    ["canary", 25, 4, 10, [1, 3]], // the weight's share beside stable now, and beside stable's maximum
    ["canary", 50, 3, 10, [3, 10]],
    ["canary", 50, 10, 10, [10, 10]],
    ["preview", 0, 3, 10, [3, 10]], // full size: stable's count to stable's maximum
    ["shadow", 0, 4, 4, [4, 4]],
  ])("%s at %i%% beside %i stable pods (max %i): %j", (track, weight, stable, stableMax, expected) => {
    const b = candidateBounds(track, weight, stable, stableMax);
    expect([b.minReplicas, b.maxReplicas]).toEqual(expected);
  });
});

describe("the Replicas router with autoscaling", () => {
  type Pair = [number, number];
  type Row = [
    string,
    Pair,
    number,
    [CandidateTrack, number, number?] | null,
    [number, number, number],
    Pair,
    Pair?,
  ];
  // What it shows; stable's [count the autoscaler asked for, pods existing]; stable's floor; the
  // candidate [track, weight, count its autoscaler asked for (none: not created yet)]; then what the
  // router asks for [stable, candidate, weight], stable's autoscaler bounds and the candidate's.
  it.each<Row>([
    ["a promotion's surge pod is no capacity", [3, 4], 3, ["canary", 50, 3], [3, 3, 50], [3, 10], [3, 10]],
    ["stable's HPA scaled up, pods to come", [4, 2], 2, ["canary", 50], [4, 4, 50], [2, 10], [4, 10]],
    ["the canary at its own HPA's count", [4, 4], 4, ["canary", 25, 2], [4, 2, 33], [4, 10], [1, 3]],
    ["a step's floor before the canary's HPA", [4, 4], 4, ["canary", 50, 1], [4, 4, 50], [4, 10], [4, 10]],
    ["a preview: stable's size and maximum", [3, 3], 3, ["preview", 0], [3, 3, 0], [3, 10], [3, 10]],
    ["floor follows a switched preview's HPA", [3, 3], 3, ["preview", 100, 6], [6, 6, 100], [6, 10], [6, 10]],
    ["no rollout: the spec's floor again", [5, 5], 5, null, [5, 0, 0], [2, 10]],
  ])("%s", (_, [count, existing], floor, candidate, expected, stableLimits, candidateLimits) => {
    const [track, weight = 0, candidateCount] = candidate ?? [];
    const deployments = [
      observed("stable", v1, count, existing),
      ...(track && candidateCount !== undefined ? [observed(track, v2, candidateCount)] : []),
    ];
    const routing = replicasRouter.route({
      model,
      image: "predictor:test",
      stable: v1,
      ...(track ? { candidate: { version: v2, weight, track } } : {}),
      deployments,
      stableFloor: floor,
      autoscaledTracks: ["stable", ...(track && candidateCount !== undefined ? [track] : [])],
    });
    expect([routing.stableReplicas, routing.candidateReplicas, routing.achievableWeight]).toEqual(expected);
    expect(bounds(routing, "stable")).toEqual(stableLimits);
    if (track) expect(bounds(routing, track)).toEqual(candidateLimits);
    // The operator never sends the count of a Deployment an autoscaler scales.
    const applied = routing.apply.filter((o) => o.kind === "Deployment") as V1Deployment[];
    expect(applied.map((d) => d.spec?.replicas)).toEqual(applied.map(() => undefined));
  });

  it("creates a new canary with its floor's count, then applies it without one", () => {
    const split = {
      model,
      image: "predictor:test",
      stable: v1,
      candidate: { version: v2, weight: 25, track: "canary" as const },
      stableFloor: 4,
      autoscaledTracks: ["stable" as const],
    };
    const first = replicasRouter.route({ ...split, deployments: [observed("stable", v1, 4)] });
    expect(first.create.map((d) => [d.metadata?.name, (d as V1Deployment).spec?.replicas])).toEqual([
      ["spy-momentum-predictor-canary", 1],
    ]);
    const next = replicasRouter.route({
      ...split,
      deployments: [observed("stable", v1, 4), observed("canary", v2, 1)],
    });
    expect(next.create).toEqual([]);
    expect(next.apply.find((o) => o.metadata?.name === "spy-momentum-predictor-canary")).toBeDefined();
  });

  it("deletes an ended canary's autoscaler before its Deployment, so nothing can scale it back up", () => {
    const routing = replicasRouter.route({
      model,
      image: "predictor:test",
      stable: v1,
      deployments: [observed("stable", v1, 4), observed("canary", v2, 2)],
      stableFloor: 4,
      autoscaledTracks: ["stable", "canary"],
    });
    expect(routing.delete).toEqual([
      {
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: "spy-momentum-predictor-canary",
      },
      { apiVersion: "apps/v1", kind: "Deployment", name: "spy-momentum-predictor-canary" },
    ]);
    expect(autoscaler(routing, "canary")).toBeUndefined();
  });

  it("deletes every autoscaler when the spec drops autoscaling, and sets both counts again", () => {
    const fixed = structuredClone(model);
    delete fixed.spec.serving.autoscaling;
    const routing = replicasRouter.route({
      model: fixed,
      image: "predictor:test",
      stable: v1,
      candidate: { version: v2, weight: 50, track: "canary" },
      deployments: [observed("stable", v1, 4), observed("canary", v2, 4)],
      stableFloor: 4,
      autoscaledTracks: ["stable", "canary"],
    });
    expect(routing.delete.map((r) => `${r.kind}/${r.name}`)).toEqual([
      "HorizontalPodAutoscaler/spy-momentum-predictor",
      "HorizontalPodAutoscaler/spy-momentum-predictor-canary",
    ]);
    const counts = routing.apply
      .filter((o) => o.kind === "Deployment")
      .map((d) => (d as V1Deployment).spec?.replicas);
    expect(counts).toEqual([2, 2]);
  });
});

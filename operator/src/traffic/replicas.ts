import type { V1Deployment, V1DeploymentSpec } from "@kubernetes/client-node";
import { LABEL_VERSION, predictorDeploymentName, type Track, versionLabel } from "../manifests/names.ts";
import {
  type AutoscalerBounds,
  predictorAutoscaler,
  predictorDeployment,
  predictorPreviewService,
  predictorService,
  predictorShadowService,
} from "../manifests/predictor.ts";
import { trackOf } from "../reconcile/observed.ts";
import type { CandidateTrack, Routing, Split, TrafficInEffect, TrafficRouter } from "./router.ts";

const CANDIDATE_TRACKS: readonly CandidateTrack[] = ["canary", "preview", "shadow"];

const runs = (d: V1Deployment | undefined, version: number) =>
  d?.spec?.template.metadata?.labels?.[LABEL_VERSION] === versionLabel(version);

const readyOn = (d: V1Deployment | undefined, version: number) => {
  if (!d || !runs(d, version)) return 0;
  const current = (d.status?.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0);
  // While the template rolls out, only pods of the new template count; before that, none do.
  return current ? Math.min(d.status?.readyReplicas ?? 0, d.status?.updatedReplicas ?? 0) : 0;
};

/**
 * Candidate pods for a weight w with s stable pods: c / (s + c) ≈ w, at least one pod. Stable keeps
 * its full count, so capacity never drops below what it had before the rollout.
 */
export function candidateReplicas(weight: number, stable: number): number {
  if (weight <= 0) return 0;
  if (weight >= 100) return stable;
  return Math.max(1, Math.round((stable * weight) / (100 - weight)));
}

export const weightOf = (candidate: number, stable: number) =>
  candidate + stable === 0 ? 0 : Math.round((100 * candidate) / (candidate + stable));

/** The autoscaler's count kept within its bounds. */
const within = (count: number, bounds: AutoscalerBounds) =>
  Math.min(bounds.maxReplicas, Math.max(bounds.minReplicas, count));

/**
 * Stable's autoscaler bounds: the spec's, with the floor raised to `holdAtLeast` pods during a
 * rollout, so the autoscaler cannot shrink the capacity traffic falls back to.
 */
export function stableBounds(autoscaling: AutoscalerBounds, holdAtLeast: number): AutoscalerBounds {
  return {
    minReplicas: within(holdAtLeast, autoscaling),
    maxReplicas: autoscaling.maxReplicas,
  };
}

/**
 * A candidate track's autoscaler bounds beside `stable` pods, stable's autoscaler going up to
 * `stableMax`. A canary at weight w: from the pods w asks for beside stable's count to those it
 * would ask for beside stable's maximum (both by `candidateReplicas`, so at least one). At its floor
 * the canary has exactly the weight's share of pods, and since both tracks take the same load per
 * pod, both autoscalers scale by the same factor and the ratio holds. A full-size track (a
 * blue-green preview, a shadow) copies stable: from stable's count to its maximum.
 */
export function candidateBounds(
  track: CandidateTrack,
  weight: number,
  stable: number,
  stableMax: number,
): AutoscalerBounds {
  if (track !== "canary") return { minReplicas: stable, maxReplicas: Math.max(stable, stableMax) };
  const minReplicas = candidateReplicas(weight, stable);
  return { minReplicas, maxReplicas: Math.max(minReplicas, candidateReplicas(weight, stableMax)) };
}

/** A Deployment's count: what its autoscaler asked for, else the pods it has, else `fallback` (not created yet). */
const countOf = (d: V1Deployment | undefined, fallback: number) =>
  d?.spec?.replicas ?? d?.status?.replicas ?? fallback;

/**
 * Traffic by replica ratio behind the model's one Service, which selects the pods of both live tracks:
 * kube-proxy spreads connections evenly over ready endpoints, so the candidate's share is its share
 * of the ready pods. No mesh needed; weights are as fine as the pod count allows (1/(s+1) at least).
 */
export const replicasRouter: TrafficRouter = {
  route(split: Split): Routing {
    const { model, image } = split;
    const name = model.metadata.name;
    const observed = (track: Track) => split.deployments.find((d) => trackOf(d) === track);
    const stableDeployment = observed("stable");
    const candidate = split.candidate;
    const autoscaling = model.spec.serving.autoscaling;
    const preview = candidate?.track === "preview";
    const switched = preview && candidate.weight >= 100;
    // A shadow gets a copy of every request stable answers, so it has stable's size too.
    const fullSize = preview || candidate?.track === "shadow";
    const candidateDeployment = candidate && observed(candidate.track);
    // During a rollout stable's floor holds what it had (and, once a preview takes all traffic,
    // what its autoscaler grew it to), so traffic returning to stable finds the capacity it left.
    const floor = candidate
      ? Math.max(split.stableFloor ?? 0, switched && autoscaling ? countOf(candidateDeployment, 0) : 0)
      : 0;
    // With an autoscaler the stable count is whatever it scaled to, within its bounds: the count it
    // asked for, not the pods that exist, which lag its decision and include a rolling update's
    // surge pod. A stable Deployment not created yet starts from the spec's count.
    const stableLimits = autoscaling && stableBounds(autoscaling, floor);
    const stableReplicas = stableLimits
      ? within(countOf(stableDeployment, model.spec.serving.replicas), stableLimits)
      : model.spec.serving.replicas;
    const candidateLimits =
      autoscaling && candidate
        ? candidateBounds(candidate.track, candidate.weight, stableReplicas, autoscaling.maxReplicas)
        : undefined;
    const replicas = !candidate
      ? 0
      : candidateLimits
        ? within(countOf(candidateDeployment, candidateLimits.minReplicas), candidateLimits)
        : fullSize
          ? stableReplicas
          : candidateReplicas(candidate.weight, stableReplicas);

    const apply: Routing["apply"] = [];
    const create: V1Deployment[] = [];
    // An autoscaled Deployment leaves its count to its HPA, so applies never send it. A new one is
    // created (not applied) with the count it should start at: the create owns that field apart
    // from the applies, which would otherwise leave it to default to one pod until the HPA's first
    // sync, and could never stop sending it without the field being removed.
    const deploy = (deployment: V1Deployment, exists: boolean, count: number) => {
      if (!autoscaling || exists) apply.push(deployment);
      else
        create.push({ ...deployment, spec: { ...(deployment.spec as V1DeploymentSpec), replicas: count } });
    };
    deploy(
      predictorDeployment({ model, version: split.stable, track: "stable", image }),
      Boolean(stableDeployment),
      stableReplicas,
    );
    apply.push(predictorService(model, switched ? "preview" : undefined), predictorShadowService(model));
    const autoscalers = new Map<Track, AutoscalerBounds | undefined>([["stable", stableLimits]]);
    if (candidate) {
      deploy(
        predictorDeployment({
          model,
          version: candidate.version,
          track: candidate.track,
          image,
          ...(autoscaling ? {} : { replicas }),
        }),
        Boolean(candidateDeployment),
        replicas,
      );
      if (preview) apply.push(predictorPreviewService(model));
      autoscalers.set(candidate.track, candidateLimits);
    }
    for (const [track, bounds] of autoscalers) {
      const autoscaler = bounds && predictorAutoscaler(model, track, bounds);
      if (autoscaler) apply.push(autoscaler);
    }
    // An autoscaler goes with its track, or when the spec drops autoscaling. A candidate's goes
    // before its Deployment (deletes run in order): nothing is left that could scale an ended
    // candidate back up, and an autoscaler cannot recreate a deleted Deployment either.
    const del: Routing["delete"] = split.autoscaledTracks
      .filter((track) => !autoscalers.get(track))
      .map((track) => ({
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: predictorDeploymentName(name, track),
      }));
    // A candidate track no longer asked for goes: each pod leaves the endpoints before it stops.
    for (const track of CANDIDATE_TRACKS) {
      if (candidate?.track !== track && observed(track)) {
        del.push({ apiVersion: "apps/v1", kind: "Deployment", name: predictorDeploymentName(name, track) });
      }
    }
    return {
      apply,
      create,
      delete: del,
      achievableWeight: !candidate || fullSize ? (switched ? 100 : 0) : weightOf(replicas, stableReplicas),
      minWeight: weightOf(1, stableReplicas),
      stableReplicas,
      candidateReplicas: replicas,
    };
  },

  inEffect(split: Split, routing: Routing): TrafficInEffect {
    const stable = split.deployments.find((d) => trackOf(d) === "stable");
    const candidate = split.candidate;
    const deployment = candidate && split.deployments.find((d) => trackOf(d) === candidate.track);
    const stableReady = readyOn(stable, split.stable.version);
    const candidateReady = candidate ? readyOn(deployment, candidate.version.version) : 0;
    const canaryGone =
      !candidate && !split.deployments.some((d) => CANDIDATE_TRACKS.some((t) => t === trackOf(d)));
    // A preview takes no live traffic until the switch, then all of it: the Service's selector.
    // A shadow never takes any.
    const weight =
      candidate?.track === "shadow"
        ? 0
        : candidate?.track === "preview"
          ? candidate.weight >= 100
            ? 100
            : 0
          : weightOf(candidateReady, stableReady);
    return {
      weight,
      settled:
        stableReady >= routing.stableReplicas &&
        (candidate ? candidateReady >= routing.candidateReplicas : canaryGone),
      stableReady,
      candidateReady,
    };
  },
};

import type { V1Deployment, V1DeploymentSpec } from "@kubernetes/client-node";
import { LABEL_VERSION, predictorDeploymentName, versionLabel } from "../manifests/names.ts";
import {
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

/**
 * Traffic by replica ratio behind the model's one Service, which selects the pods of both live tracks:
 * kube-proxy spreads connections evenly over ready endpoints, so the candidate's share is its share
 * of the ready pods. No mesh needed; weights are as fine as the pod count allows (1/(s+1) at least).
 */
export const replicasRouter: TrafficRouter = {
  route(split: Split): Routing {
    const { model, image } = split;
    const name = model.metadata.name;
    const stableDeployment = split.deployments.find((d) => trackOf(d) === "stable");
    const candidate = split.candidate;
    const autoscaling = model.spec.serving.autoscaling;
    // With an autoscaler the stable count is whatever it scaled to (never below its minimum, nor,
    // during a rollout, below what it had when the rollout started): the count it asked for, not
    // the pods that exist, which lag its decision and include a rolling update's surge pod.
    const floor = candidate ? (split.stableFloor ?? 0) : 0;
    const stableReplicas = autoscaling
      ? Math.min(
          autoscaling.maxReplicas,
          Math.max(
            autoscaling.minReplicas,
            floor,
            // A stable Deployment not created yet starts from the spec's count.
            stableDeployment?.spec?.replicas ??
              stableDeployment?.status?.replicas ??
              model.spec.serving.replicas,
          ),
        )
      : model.spec.serving.replicas;
    const preview = candidate?.track === "preview";
    const switched = preview && candidate.weight >= 100;
    // A shadow gets a copy of every request stable answers, so it has stable's size too.
    const fullSize = preview || candidate?.track === "shadow";
    const stable = predictorDeployment({ model, version: split.stable, track: "stable", image });
    // An autoscaled stable Deployment leaves its count to the HPA, so applies never send it. A
    // new one is created (not applied) with the count it should start at: the create owns that
    // field apart from the applies, which would otherwise leave it to default to one pod until the
    // HPA's first sync, and could never stop sending it without the field being removed.
    const create: V1Deployment[] =
      autoscaling && !stableDeployment
        ? [{ ...stable, spec: { ...(stable.spec as V1DeploymentSpec), replicas: stableReplicas } }]
        : [];
    const apply: Routing["apply"] = [
      ...(create.length > 0 ? [] : [stable]),
      predictorService(model, switched ? "preview" : undefined),
      predictorShadowService(model),
    ];
    const del: Routing["delete"] = [];
    const autoscaler = predictorAutoscaler(model, floor);
    if (autoscaler) apply.push(autoscaler);
    else if (split.autoscalerExists) {
      del.push({
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: predictorDeploymentName(name, "stable"),
      });
    }
    const replicas = !candidate
      ? 0
      : fullSize
        ? stableReplicas
        : candidateReplicas(candidate.weight, stableReplicas);
    if (candidate) {
      apply.push(
        predictorDeployment({ model, version: candidate.version, track: candidate.track, image, replicas }),
      );
      if (preview) apply.push(predictorPreviewService(model));
    }
    // A candidate track no longer asked for goes: each pod leaves the endpoints before it stops.
    for (const track of CANDIDATE_TRACKS) {
      if (candidate?.track !== track && split.deployments.some((d) => trackOf(d) === track)) {
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

import type { V1Deployment } from "@kubernetes/client-node";
import { LABEL_VERSION, predictorDeploymentName, versionLabel } from "../manifests/names.ts";
import { predictorAutoscaler, predictorDeployment, predictorService } from "../manifests/predictor.ts";
import { trackOf } from "../reconcile/observed.ts";
import type { Routing, Split, TrafficInEffect, TrafficRouter } from "./router.ts";

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
 * Traffic by replica ratio behind the model's one Service, which selects the pods of both tracks:
 * kube-proxy spreads connections evenly over ready endpoints, so the candidate's share is its share
 * of the ready pods. No mesh needed; weights are as fine as the pod count allows (1/(s+1) at least).
 */
export const replicasRouter: TrafficRouter = {
  route(split: Split): Routing {
    const { model, image } = split;
    const name = model.metadata.name;
    const stableDeployment = split.deployments.find((d) => trackOf(d) === "stable");
    const autoscaling = model.spec.serving.autoscaling;
    // With an autoscaler the stable count is whatever it scaled to (never below its minimum).
    const stableReplicas = autoscaling
      ? Math.max(
          autoscaling.minReplicas,
          stableDeployment?.status?.replicas ?? stableDeployment?.spec?.replicas ?? 0,
        )
      : model.spec.serving.replicas;
    const apply: Routing["apply"] = [
      predictorDeployment({ model, version: split.stable, track: "stable", image }),
      predictorService(model),
    ];
    const autoscaler = predictorAutoscaler(model);
    const del: Routing["delete"] = [];
    if (autoscaler) apply.push(autoscaler);
    else if (split.autoscalerExists) {
      del.push({
        apiVersion: "autoscaling/v2",
        kind: "HorizontalPodAutoscaler",
        name: predictorDeploymentName(name, "stable"),
      });
    }
    const canary = split.candidate;
    const replicas = canary ? candidateReplicas(canary.weight, stableReplicas) : 0;
    if (canary) {
      apply.push(predictorDeployment({ model, version: canary.version, track: "canary", image, replicas }));
    } else if (split.deployments.some((d) => trackOf(d) === "canary")) {
      // Traffic leaves the canary as its pods go: each is removed from the endpoints before it stops.
      del.push({ apiVersion: "apps/v1", kind: "Deployment", name: predictorDeploymentName(name, "canary") });
    }
    return {
      apply,
      delete: del,
      achievableWeight: canary ? weightOf(replicas, stableReplicas) : 0,
      minWeight: weightOf(1, stableReplicas),
      stableReplicas,
      candidateReplicas: replicas,
    };
  },

  inEffect(split: Split, routing: Routing): TrafficInEffect {
    const stable = split.deployments.find((d) => trackOf(d) === "stable");
    const canary = split.deployments.find((d) => trackOf(d) === "canary");
    const stableReady = readyOn(stable, split.stable.version);
    const candidateReady = split.candidate ? readyOn(canary, split.candidate.version.version) : 0;
    const canaryGone = !split.candidate && !canary;
    return {
      weight: weightOf(candidateReady, stableReady),
      settled:
        stableReady >= routing.stableReplicas &&
        (split.candidate ? candidateReady >= routing.candidateReplicas : canaryGone),
      stableReady,
      candidateReady,
    };
  },
};

import type { KubernetesObject, V1Deployment } from "@kubernetes/client-node";
import type { ModelVersionSpec, TradingModel } from "../api/types.ts";
import type { Track } from "../manifests/names.ts";
import type { ObjectRef } from "../reconcile/context.ts";

type Served = Pick<ModelVersionSpec, "version" | "artifact">;

/** Where a candidate's pods run: beside stable taking live traffic, behind a preview Service, or in shadow. */
export type CandidateTrack = "canary" | "preview" | "shadow";

/** The split a rollout asks for: the version on stable, and a candidate with its percent of traffic. */
export interface Split {
  model: TradingModel;
  image: string;
  stable: Served;
  /**
   * canary: live traffic by share. preview: full size behind its own Service, and all of the
   * model's Service's traffic once weight is 100 (the blue-green switch). shadow: full size behind
   * the shadow Service stable mirrors to, no live traffic (weight 0).
   */
  candidate?: { version: Served; weight: number; track: CandidateTrack };
  /** The observed predictor Deployments: the router keeps stable's capacity from them. */
  deployments: readonly V1Deployment[];
  /** Stable pods kept at least during a rollout: what stable had when it started. */
  stableFloor?: number;
  /** The tracks whose HorizontalPodAutoscaler exists: one not wanted any more is deleted. */
  autoscaledTracks: readonly Track[];
}

/** What a router wants applied and deleted for a split, and what that split really is. */
export interface Routing {
  apply: KubernetesObject[];
  /** Objects created once and then applied: fields set only at creation stay theirs (Replicas: an autoscaled Deployment's first count). */
  create: KubernetesObject[];
  delete: ObjectRef[];
  /** The weight the asked one rounds to with this router (Replicas: a ratio of whole pods). */
  achievableWeight: number;
  /** The smallest non-zero weight this router can give the candidate. */
  minWeight: number;
  /** Pods asked for on each track: with autoscaling, the count its autoscaler asked for, within the bounds given it. */
  stableReplicas: number;
  candidateReplicas: number;
}

/** What is in effect, read back from the cluster. */
export interface TrafficInEffect {
  /** Percent of traffic on the candidate now. */
  weight: number;
  /** Every pod the split asks for, on both tracks, is ready on its version. */
  settled: boolean;
  /** Ready stable pods on the stable version. */
  stableReady: number;
  candidateReady: number;
}

/**
 * How traffic is split between stable and candidate: one implementation per provider (Replicas
 * today; a Gateway API HTTPRoute next), chosen by spec.rollout.traffic. Pure: it builds objects
 * and reads observed ones; the adapter applies them.
 */
export interface TrafficRouter {
  /**
   * Also keeps the `<model>-shadow` Service that stable's pods always mirror to: it selects the
   * shadow track's pods, so turning a shadow on or off changes its endpoints, never stable's pods.
   */
  route(split: Split): Routing;
  inEffect(split: Split, routing: Routing): TrafficInEffect;
}

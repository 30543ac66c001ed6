import type { KubernetesObject, V1Deployment } from "@kubernetes/client-node";
import type { ModelVersionSpec, TradingModel } from "../api/types.ts";
import type { ObjectRef } from "../reconcile/context.ts";

type Served = Pick<ModelVersionSpec, "version" | "artifact">;

/** The split a rollout asks for: the version on stable, and a candidate with its percent of traffic. */
export interface Split {
  model: TradingModel;
  image: string;
  stable: Served;
  candidate?: { version: Served; weight: number };
  /** The observed predictor Deployments: the router keeps stable's capacity from them. */
  deployments: readonly V1Deployment[];
  /** Whether the model's HorizontalPodAutoscaler exists (deleted when the spec drops autoscaling). */
  autoscalerExists: boolean;
}

/** What a router wants applied and deleted for a split, and what that split really is. */
export interface Routing {
  apply: KubernetesObject[];
  delete: ObjectRef[];
  /** The weight the asked one rounds to with this router (Replicas: a ratio of whole pods). */
  achievableWeight: number;
  /** The smallest non-zero weight this router can give the candidate. */
  minWeight: number;
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
  route(split: Split): Routing;
  inEffect(split: Split, routing: Routing): TrafficInEffect;
}

import type { KubernetesObject } from "@kubernetes/client-node";
import type {
  Condition,
  ModelVersionSpec,
  ModelVersionStatus,
  Stage,
  TradingModel,
  TradingModelStatus,
} from "../api/types.ts";
import {
  type ConditionType,
  type ConditionUpdate,
  type Problem,
  type Reason,
  setCondition,
} from "../conditions.ts";
import { withStage } from "../manifests/model-version.ts";
import { modelVersionName } from "../manifests/names.ts";
import type { Images } from "../manifests/training-job.ts";
import type { Observed } from "./observed.ts";

export interface Settings {
  images: Images;
  /** How long finished training Jobs (and their pods' logs) stay. */
  trainingJobTtlSeconds: number;
  /** The server-side apply field manager the adapter applies under: whose ownership the decision reads. */
  fieldManager: string;
}

export interface ObjectRef {
  apiVersion: string;
  kind: string;
  name: string;
}

export interface PlannedEvent {
  type: "Normal" | "Warning";
  /** Specific and CamelCase, e.g. CandidateRejected; never a catch-all. */
  reason: Reason;
  message: string;
  /**
   * Every event is recorded on the TradingModel, so `kubectl describe tm` tells the whole story;
   * one about a version is recorded on its ModelVersion too.
   */
  alsoOn?: ObjectRef;
}

/** What one reconcile wants done. The adapter executes it in this order, then emits the events. */
export interface Plan {
  /**
   * Server-side applied first, under the replicas handover's field manager (`replicasHandover`):
   * Deployments carrying only their live `spec.replicas`, which an `apply` below stops sending.
   */
  handover: KubernetesObject[];
  /** Server-side applied under the operator's field manager. */
  apply: KubernetesObject[];
  /**
   * Created when absent, never updated: Jobs and ModelVersions, whose specs are immutable.
   * AlreadyExists counts as done (names are predictable, a stale cache may not show them yet).
   */
  create: KubernetesObject[];
  /** Deleted with background propagation; NotFound counts as done. */
  delete: ObjectRef[];
  /** Written through the ModelVersions' status subresource, after their creation above. */
  versionStatus: { name: string; status: ModelVersionStatus }[];
  /** Written through the TradingModel's status subresource when it differs from the observed one. */
  status: TradingModelStatus;
  events: PlannedEvent[];
  requeueAfterSeconds?: number;
}

/** A version as this reconcile sees it, including changes planned earlier in the same reconcile. */
export interface VersionView {
  version: number;
  spec: ModelVersionSpec;
  status: ModelVersionStatus;
}

/**
 * The part of the status that is state, carried from one reconcile to the next as one whole (a
 * field added to the status schema is carried without being listed anywhere). The rest is derived
 * anew by the status builder every time.
 */
export type StoredStatus = Omit<TradingModelStatus, DerivedStatusField>;
type DerivedStatusField =
  | "phase"
  | "observedGeneration"
  | "conditions"
  | "stableVersion"
  | "candidateVersion"
  | "canaryWeight"
  | "currentStep"
  | "message";

export function storedStatus(status: TradingModelStatus | undefined): StoredStatus {
  const {
    phase: _phase,
    observedGeneration: _observedGeneration,
    conditions: _conditions,
    stableVersion: _stableVersion,
    candidateVersion: _candidateVersion,
    canaryWeight: _canaryWeight,
    currentStep: _currentStep,
    message: _message,
    ...stored
  } = status ?? {};
  return structuredClone(stored);
}

/**
 * The one object a reconcile's steps share: what was observed, and the plan and status being built.
 * Steps run in a fixed order; a later step sees what an earlier one decided (a version registered
 * by the registry step is served by the serving step in the same reconcile).
 */
export interface Context {
  observed: Observed;
  settings: Settings;
  model: TradingModel;
  generation: number;
  now: Date;
  versions: Map<number, VersionView>;
  conditions: Condition[];
  status: StoredStatus;
  /** What is wrong, from every step; the status builder shows the most urgent in Degraded. */
  problems: Problem[];
  plan: Plan;
  /** Set by validation: training must not start while the spec is unusable. */
  specProblems: string[];
  /** Condition types this reconcile decided; the rest are reset when the status is built. */
  decided: Set<ConditionType>;
}

export function newContext(observed: Observed, settings: Settings): Context {
  const model = observed.model;
  const versions = new Map<number, VersionView>();
  for (const v of observed.versions) {
    versions.set(v.spec.version, { version: v.spec.version, spec: v.spec, status: v.status ?? {} });
  }
  const previous = model.status ?? {};
  return {
    observed,
    settings,
    model,
    generation: model.metadata.generation ?? 0,
    now: observed.now,
    versions,
    conditions: [...(previous.conditions ?? [])],
    status: storedStatus(previous),
    problems: [],
    plan: { handover: [], apply: [], create: [], delete: [], versionStatus: [], status: {}, events: [] },
    specProblems: [],
    decided: new Set(),
  };
}

/** Sets a condition other than Degraded, which only the status builder sets (from `problem`). */
export function condition(
  ctx: Context,
  type: Exclude<ConditionType, "Degraded">,
  status: ConditionUpdate["status"],
  reason: Reason,
  message: string,
) {
  ctx.conditions = setCondition(ctx.conditions, { type, status, reason, message }, ctx.generation, ctx.now);
  ctx.decided.add(type);
}

/** Reports something wrong; several may hold at once and none hides another from the status builder. */
export function problem(ctx: Context, reason: Reason, message: string) {
  ctx.problems.push({ reason, message });
}

export function event(
  ctx: Context,
  type: PlannedEvent["type"],
  reason: Reason,
  message: string,
  alsoOn?: ObjectRef,
) {
  ctx.plan.events.push({ type, reason, message, ...(alsoOn ? { alsoOn } : {}) });
}

export function requeueAfter(ctx: Context, seconds: number) {
  const current = ctx.plan.requeueAfterSeconds;
  ctx.plan.requeueAfterSeconds = current === undefined ? seconds : Math.min(current, seconds);
}

export const versionRef = (ctx: Context, version: number): ObjectRef => ({
  apiVersion: "trading.mlops.dev/v1alpha1",
  kind: "ModelVersion",
  name: modelVersionName(ctx.model.metadata.name, version),
});

/** Moves a version to a stage, records why, and plans the status write. */
export function setStage(ctx: Context, version: number, stage: Stage, reason: Reason, message: string) {
  const view = ctx.versions.get(version);
  if (!view || view.status.stage === stage) return;
  view.status = withStage(view.status, { stage, reason, message }, ctx.now);
  const name = modelVersionName(ctx.model.metadata.name, version);
  ctx.plan.versionStatus = [
    ...ctx.plan.versionStatus.filter((s) => s.name !== name),
    { name, status: view.status },
  ];
}

/** The highest version in a stage. */
export function highestIn(ctx: Context, stage: Stage): VersionView | undefined {
  return [...ctx.versions.values()]
    .filter((v) => v.status.stage === stage)
    .sort((a, b) => b.version - a.version)[0];
}

import { randomUUID } from "node:crypto";
import type { KubernetesObject } from "@kubernetes/client-node";
import type { Logger } from "pino";
import { canonicalJson } from "../../../predictor/src/artifact.ts";
import { type MetricsProvider, unconfiguredMetrics } from "../analysis/prometheus.ts";
import { API_VERSION } from "../api/crd.ts";
import type { TradingModel } from "../api/types.ts";
import { Reason, setCondition } from "../conditions.ts";
import { phaseOf } from "../phase.ts";
import type { ObjectRef, Plan, PlannedEvent, Settings } from "../reconcile/context.ts";
import { decide } from "../reconcile/decide.ts";
import { measurementDue } from "../rollout/machine.ts";
import type { EventRecorder } from "./events.ts";
import { type ClusterWriter, describeError } from "./kube-client.ts";
import type { OperatorMetrics } from "./metrics.ts";
import { type NamespaceCache, observe } from "./observe.ts";

/** The informers' caches, as the reconciler reads them. */
export interface CacheReader {
  model(namespace: string, name: string): TradingModel | undefined;
  namespace(namespace: string): NamespaceCache;
  /** A cached object by kind (TradingModel, ModelVersion, Job, ConfigMap, Deployment, Service, HorizontalPodAutoscaler). */
  find(kind: string, namespace: string, name: string): KubernetesObject | undefined;
}

export interface ReconcileResult {
  /** Run again after this long even if nothing changes (training polls, schedules, cache catching up). */
  requeueAfterMs?: number;
  statusWritten: boolean;
  eventsEmitted: number;
}

/** A check that the caches have caught up with a write of the previous reconcile. */
type Expectation = (cache: CacheReader) => boolean;

/** How long the caches may lag behind our own writes before the reconcile proceeds anyway. */
const EXPECTATION_TIMEOUT_MS = 30_000;
const CACHE_WAIT_MS = 500;

const ACTIONS: [prefix: string, action: string][] = [
  ["Training", "Train"],
  ["Trainer", "Train"],
  ["InvalidTraining", "Train"],
  ["DataSource", "Train"],
  ["Artifact", "Register"],
  ["Candidate", "Gate"],
  ["VersionsPruned", "Prune"],
  ["Version", "Rollout"],
  ["Rollout", "Rollout"],
  ["Predictor", "Serve"],
  ["InvalidSpec", "Validate"],
];

/**
 * Objects a later one refers to go first: the apiserver checks a RoleBinding against its Role
 * (RBAC escalation prevention), which must exist unless the writer may do everything.
 */
const APPLY_ORDER = ["ServiceAccount", "Role", "RoleBinding", "ConfigMap", "Service", "Deployment"];

export function applyOrder<T extends KubernetesObject>(objects: readonly T[]): T[] {
  const rank = (o: T) => {
    const i = APPLY_ORDER.indexOf(o.kind ?? "");
    return i < 0 ? APPLY_ORDER.length : i;
  };
  return [...objects].sort((a, b) => rank(a) - rank(b));
}

/** events.k8s.io/v1 wants the action taken besides the reason; it follows from the reason's family. */
export const actionOf = (reason: string) => ACTIONS.find(([p]) => reason.startsWith(p))?.[1] ?? "Reconcile";

export const sameJson = (a: unknown, b: unknown) => canonicalJson(a ?? {}) === canonicalJson(b ?? {});

/**
 * The imperative shell around the pure decision: observes one TradingModel from the caches, runs
 * `decide`, applies the plan in its order (replicas handovers, server-side apply, create, delete,
 * ModelVersion status), writes the TradingModel's status once and only when it changed, and emits
 * the events only after that write succeeded. A failed write leaves the model Degraded with the
 * apiserver's message where the status can still be written, and the error goes back to the work
 * queue for a retry.
 */
/** Where the reconciler counts rollouts that started and ended (OperatorMetrics). */
export type RolloutCounters = Pick<OperatorMetrics, "recordRolloutTransition">;

export class Reconciler {
  private readonly cache: CacheReader;
  private readonly writer: ClusterWriter;
  private readonly recorder: EventRecorder;
  private readonly settings: Settings;
  private readonly log: Logger;
  private readonly metrics: MetricsProvider;
  private readonly rollouts: RolloutCounters | undefined;
  private readonly expectations = new Map<string, { checks: Expectation[]; deadline: number }>();

  constructor(
    cache: CacheReader,
    writer: ClusterWriter,
    recorder: EventRecorder,
    settings: Settings,
    log: Logger,
    metrics: MetricsProvider = unconfiguredMetrics,
    rollouts?: RolloutCounters,
  ) {
    this.metrics = metrics;
    this.rollouts = rollouts;
    this.cache = cache;
    this.writer = writer;
    this.recorder = recorder;
    this.settings = settings;
    this.log = log;
  }

  /** Whether the caches still miss one of our own writes of the previous reconcile of this key. */
  private cacheBehind(key: string): boolean {
    const pending = this.expectations.get(key);
    if (!pending) return false;
    if (Date.now() < pending.deadline && !pending.checks.every((check) => check(this.cache))) return true;
    this.expectations.delete(key);
    return false;
  }

  async reconcile(key: string, now: Date = new Date()): Promise<ReconcileResult> {
    const [namespace = "", name = ""] = key.split("/");
    const model = this.cache.model(namespace, name);
    const idle = { statusWritten: false, eventsEmitted: 0 };
    if (!model || model.metadata.deletionTimestamp) {
      // Deleted: the garbage collector removes everything it owned (ownerReferences).
      this.expectations.delete(key);
      return idle;
    }
    if (this.cacheBehind(key)) return { ...idle, requeueAfterMs: CACHE_WAIT_MS };
    const startedAt = performance.now();
    const log = this.log.child({
      model: key,
      reconcileId: randomUUID().slice(0, 8),
      generation: model.metadata.generation,
    });
    // The measurement is taken before the decision, which never calls out (it judges what it gets).
    const due = measurementDue(model, now);
    const measurement = due ? await this.metrics.measure(due, now) : undefined;
    if (due) log.debug({ version: due.version, window: due.window }, "measured");
    const observed = observe(model, this.cache.namespace(namespace), now);
    const plan = decide(measurement ? { ...observed, measurement } : observed, this.settings);
    const checks: Expectation[] = [];
    try {
      await this.execute(model, plan, checks, log);
    } catch (err) {
      if (checks.length > 0) this.expect(key, checks);
      await this.reportFailure(model, err, now, log);
      throw err;
    }
    let statusWritten = false;
    if (!sameJson(model.status, plan.status)) {
      await this.writer.applyStatus("TradingModel", namespace, name, plan.status);
      const before = model.metadata.resourceVersion;
      checks.push((c) => c.find("TradingModel", namespace, name)?.metadata?.resourceVersion !== before);
      statusWritten = true;
      this.rollouts?.recordRolloutTransition({ namespace, name }, model.status?.rollout, plan.status.rollout);
    }
    if (checks.length > 0) this.expect(key, checks);
    const eventsEmitted = await this.emit(model, plan.events, log);
    // A reconcile that changed nothing (a poll, a resync) is logged at debug: info stays readable.
    const changed = statusWritten || plan.create.length + plan.delete.length + plan.events.length > 0;
    log[changed ? "info" : "debug"](
      {
        version: plan.status.latestVersion,
        stable: plan.status.stableVersion,
        phase: plan.status.phase,
        applied: plan.apply.length,
        created: plan.create.length,
        deleted: plan.delete.length,
        statusWritten,
        events: plan.events.map((e) => e.reason),
        requeueAfterSeconds: plan.requeueAfterSeconds,
      },
      "reconciled",
    );
    // The decision's requeue-after counts from `now`: the time spent measuring, applying and writing
    // since then is already behind (a canary step is judged an interval after its weight took effect).
    const spentMs = performance.now() - startedAt;
    return {
      ...(plan.requeueAfterSeconds === undefined
        ? {}
        : { requeueAfterMs: Math.max(0, plan.requeueAfterSeconds * 1000 - spentMs) }),
      statusWritten,
      eventsEmitted,
    };
  }

  private expect(key: string, checks: Expectation[]): void {
    this.expectations.set(key, { checks, deadline: Date.now() + EXPECTATION_TIMEOUT_MS });
  }

  private async execute(model: TradingModel, plan: Plan, checks: Expectation[], log: Logger): Promise<void> {
    const namespace = model.metadata.namespace;
    const step = async (what: string, run: () => Promise<unknown>) => {
      try {
        await run();
      } catch (err) {
        throw new Error(`${what}: ${describeError(err)}`, { cause: err });
      }
    };
    for (const object of plan.handover) {
      const objectName = object.metadata?.name ?? "";
      await step(`handing over spec.replicas of ${object.kind} ${objectName}`, async () => {
        const outcome = await this.writer.handOver(object);
        const replicas = (object as { spec?: { replicas?: number } }).spec?.replicas;
        log.debug({ kind: object.kind, name: objectName, replicas, outcome }, "replicas handed over");
      });
    }
    for (const object of applyOrder(plan.apply)) {
      await step(`applying ${object.kind} ${object.metadata?.name}`, () => this.writer.apply(object));
    }
    for (const object of plan.create) {
      const objectName = object.metadata?.name ?? "";
      await step(`creating ${object.kind} ${objectName}`, async () => {
        const outcome = await this.writer.create(object);
        if (outcome === "created") log.info({ kind: object.kind, name: objectName }, "created");
        checks.push((c) => c.find(object.kind ?? "", namespace, objectName) !== undefined);
      });
    }
    for (const ref of plan.delete) {
      await step(`deleting ${ref.kind} ${ref.name}`, async () => {
        await this.writer.remove({ ...ref, namespace });
        checks.push((c) => c.find(ref.kind, namespace, ref.name) === undefined);
      });
    }
    for (const { name, status } of plan.versionStatus) {
      const cached = this.cache.find("ModelVersion", namespace, name) as { status?: unknown } | undefined;
      if (cached && sameJson(cached.status, status)) continue;
      await step(`writing the status of ModelVersion ${name}`, async () => {
        const before = (cached as KubernetesObject | undefined)?.metadata?.resourceVersion;
        await this.writer.applyStatus("ModelVersion", namespace, name, status);
        checks.push((c) => {
          const now = c.find("ModelVersion", namespace, name)?.metadata?.resourceVersion;
          return now !== undefined && now !== before;
        });
      });
    }
  }

  /**
   * Puts the failure on the model's observed status (best effort: the apiserver may be what
   * failed). Never the planned status: it describes writes that did not happen (a Job that was
   * refused is not "Running"), and the next reconcile would trust it and never plan them again.
   */
  private async reportFailure(model: TradingModel, err: unknown, now: Date, log: Logger): Promise<void> {
    const message = (err instanceof Error ? err.message : String(err)).slice(0, 2000);
    log.error({ err: message }, "reconcile failed");
    const observed = model.status ?? {};
    const conditions = setCondition(
      observed.conditions,
      { type: "Degraded", status: "True", reason: Reason.ReconcileFailed, message },
      model.metadata.generation ?? 0,
      now,
    );
    const status = { ...observed, conditions, phase: phaseOf(conditions), message };
    if (sameJson(model.status, status)) return;
    try {
      await this.writer.applyStatus("TradingModel", model.metadata.namespace, model.metadata.name, status);
    } catch (statusErr) {
      log.warn({ err: describeError(statusErr) }, "could not record the failure in the status");
    }
  }

  private async emit(model: TradingModel, events: PlannedEvent[], log: Logger): Promise<number> {
    const namespace = model.metadata.namespace;
    let emitted = 0;
    for (const e of events) {
      for (const regarding of eventTargets(model, e, this.cache)) {
        try {
          await this.recorder.record({
            namespace,
            regarding: { ...regarding, namespace },
            type: e.type,
            reason: e.reason,
            note: e.message,
            action: actionOf(e.reason),
          });
          emitted++;
        } catch (err) {
          // The decision and its status stand; a lost Event is logged, not retried into a second decision.
          log.warn({ reason: e.reason, on: regarding.kind, err: describeError(err) }, "could not emit event");
        }
      }
      log.info({ event: e.reason, type: e.type }, e.message);
    }
    return emitted;
  }
}

/** Where an event is recorded: always the TradingModel, and the version it is about too. */
export function eventTargets(
  model: TradingModel,
  event: PlannedEvent,
  cache: Pick<CacheReader, "find">,
): (ObjectRef & { uid?: string })[] {
  const self = {
    apiVersion: API_VERSION,
    kind: "TradingModel",
    name: model.metadata.name,
    ...(model.metadata.uid ? { uid: model.metadata.uid } : {}),
  };
  if (!event.alsoOn) return [self];
  const uid = cache.find(event.alsoOn.kind, model.metadata.namespace, event.alsoOn.name)?.metadata?.uid;
  return [self, { ...event.alsoOn, ...(uid ? { uid } : {}) }];
}

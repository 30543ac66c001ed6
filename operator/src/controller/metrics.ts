import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { ModelVersion, TradingModel, TradingModelStatus } from "../api/types.ts";
import { Reason } from "../conditions.ts";

/** Which TradingModel a business series is about: its `namespace` and `model` labels. */
export interface ModelRef {
  namespace: string;
  name: string;
}

/** How a rollout ended: the new version took all traffic, or the stable one was kept. */
export type RolloutOutcome = "promoted" | "rolled_back";

type RolloutState = NonNullable<TradingModelStatus["rollout"]>;

const ENDED: Partial<Record<RolloutState["phase"], RolloutOutcome>> = {
  Succeeded: "promoted",
  RolledBack: "rolled_back",
  Aborted: "rolled_back",
};

/**
 * Why a rollout kept the stable version, as the reason of the Event that explained it: a check
 * failed beyond failureLimit (AnalysisFailed), no data beyond noDataLimit (AnalysisInconclusive),
 * the candidate's pods never became available (RolloutFailed), spec.rollout.abortVersion
 * (RolloutAborted).
 */
function rollbackReason(state: RolloutState): string {
  if (state.phase === "Aborted") return Reason.RolloutAborted;
  const verdicts = new Set((state.analysis ?? []).map((r) => r.verdict));
  if (verdicts.has("Failed")) return Reason.AnalysisFailed;
  if (verdicts.has("NoData")) return Reason.AnalysisInconclusive;
  return Reason.RolloutFailed;
}

/** The label values the rollout counters of every model start from, at 0. */
const STRATEGIES: RolloutState["strategy"][] = ["Canary", "BlueGreen"];
export const ROLLBACK_REASONS = [
  Reason.AnalysisFailed,
  Reason.AnalysisInconclusive,
  Reason.RolloutFailed,
  Reason.RolloutAborted,
] as const;

/** The rollout that started and the one that ended between two stored rollout states. */
export function rolloutTransition(
  before: RolloutState | undefined,
  after: RolloutState | undefined,
): { started?: RolloutState["strategy"]; finished?: { outcome: RolloutOutcome; reason: string } } {
  if (!after) return {};
  const sameRollout =
    before !== undefined && before.version === after.version && before.startedAt === after.startedAt;
  const outcome = ENDED[after.phase];
  const endedNow = outcome !== undefined && !(sameRollout && ENDED[before.phase] !== undefined);
  return {
    ...(sameRollout ? {} : { started: after.strategy }),
    ...(endedNow
      ? { finished: { outcome, reason: outcome === "promoted" ? "" : rollbackReason(after) } }
      : {}),
  };
}

/** What the business gauges read of one model, from the caches at scrape time. */
export interface ModelSnapshot {
  ref: ModelRef;
  /** status.canaryWeight and status.currentStep while a rollout is in progress. */
  canaryWeight?: number;
  currentStep?: number;
  stableVersion?: number;
  /** Epoch seconds: creation of the newest ModelVersion (every one is a training that succeeded). */
  lastTrainingSeconds?: number;
  /** Epoch seconds: creation of the stable version's ModelVersion (when the serving model was trained). */
  stableTrainedSeconds?: number;
}

const epochSeconds = (time: Date | string | undefined) =>
  time === undefined ? undefined : new Date(time).getTime() / 1000;

/** The snapshot of one model, from its status and its ModelVersions. */
export function modelSnapshot(model: TradingModel, versions: readonly ModelVersion[]): ModelSnapshot {
  const status = model.status ?? {};
  const own = versions.filter((v) => v.spec?.model === model.metadata.name);
  const created = own
    .map((v) => epochSeconds(v.metadata?.creationTimestamp as Date | string | undefined))
    .filter((t): t is number => t !== undefined && Number.isFinite(t));
  const stable = own.find((v) => v.spec.version === status.stableVersion);
  const stableTrained = epochSeconds(stable?.metadata?.creationTimestamp as Date | string | undefined);
  const rollingOut = status.candidateVersion !== undefined;
  return {
    ref: { namespace: model.metadata.namespace, name: model.metadata.name },
    ...(rollingOut && status.canaryWeight !== undefined ? { canaryWeight: status.canaryWeight } : {}),
    ...(rollingOut && status.currentStep !== undefined ? { currentStep: status.currentStep } : {}),
    ...(status.stableVersion === undefined ? {} : { stableVersion: status.stableVersion }),
    ...(created.length > 0 ? { lastTrainingSeconds: Math.max(...created) } : {}),
    ...(stableTrained === undefined ? {} : { stableTrainedSeconds: stableTrained }),
  };
}

const modelLabels = (ref: ModelRef) => ({ namespace: ref.namespace, model: ref.name });

/** Gauges of each model read from its snapshot at scrape time: name, help, value (none: no sample). */
const MODEL_GAUGES: [string, string, (m: ModelSnapshot) => number | undefined][] = [
  [
    "tradingmodel_canary_weight_percent",
    "Percent of traffic on the candidate while a rollout is in progress (status.canaryWeight)",
    (m) => m.canaryWeight,
  ],
  [
    "tradingmodel_rollout_step",
    "Index of the canary step in progress, from 0, while a rollout is in progress (status.currentStep)",
    (m) => m.currentStep,
  ],
  [
    "tradingmodel_stable_version",
    "Version serving all traffic (status.stableVersion)",
    (m) => m.stableVersion,
  ],
  [
    "tradingmodel_last_training_timestamp_seconds",
    "When the newest version was trained (its ModelVersion's creation); time since the last training is time() minus this",
    (m) => m.lastTrainingSeconds,
  ],
  [
    "tradingmodel_stable_version_trained_timestamp_seconds",
    "When the stable version was trained (its ModelVersion's creation); the model's age is time() minus this",
    (m) => m.stableTrainedSeconds,
  ],
];

/** The operator's own metrics, on a registry of its own. */
export class OperatorMetrics {
  readonly registry = new Registry();
  readonly reconciles = new Counter({
    name: "tradingmodel_operator_reconcile_total",
    help: "Reconciles by result: success, requeue (success with a requeue-after), error",
    labelNames: ["result"] as const,
    registers: [this.registry],
  });
  readonly reconcileDuration = new Histogram({
    name: "tradingmodel_operator_reconcile_duration_seconds",
    help: "Time of one reconcile, apiserver writes included",
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly errors = new Counter({
    name: "tradingmodel_operator_errors_total",
    help: "Errors by where they happened: reconcile, watch (an informer stopped), apiserver_retry (a call retried), leader_election",
    labelNames: ["source"] as const,
    registers: [this.registry],
  });
  /** Read at scrape time, so delayed keys that came due count without anyone touching the gauge. */
  private queue: () => { depth: number; inFlight: number } = () => ({ depth: 0, inFlight: 0 });
  readonly queueDepth: Gauge = new Gauge({
    name: "tradingmodel_operator_workqueue_depth",
    help: "Keys waiting for a worker",
    registers: [this.registry],
    collect: (): void => this.queueDepth.set(this.queue().depth),
  });
  readonly inFlight: Gauge = new Gauge({
    name: "tradingmodel_operator_reconciles_in_flight",
    help: "Reconciles running now",
    registers: [this.registry],
    collect: (): void => this.inFlight.set(this.queue().inFlight),
  });
  readonly leader = new Gauge({
    name: "tradingmodel_operator_leader",
    help: "1 while this replica holds the leader Lease",
    registers: [this.registry],
  });
  readonly statusWrites = new Counter({
    name: "tradingmodel_operator_status_writes_total",
    help: "TradingModel status patches (written only when the status changed)",
    registers: [this.registry],
  });
  readonly events = new Counter({
    name: "tradingmodel_operator_events_total",
    help: "Events emitted (a repeat counted on an earlier Event's series included)",
    registers: [this.registry],
  });

  observeQueue(read: () => { depth: number; inFlight: number }): void {
    this.queue = read;
  }

  // Business metrics (docs/monitoring.md). Every series is labelled with the TradingModel's
  // `namespace` and `model`; the operator is scraped with honor_labels so they are kept.

  readonly rolloutsStarted: Counter<"namespace" | "model" | "strategy"> = new Counter({
    name: "tradingmodel_rollouts_started_total",
    help: "Rollouts of a new version started, by model and strategy (Canary, BlueGreen)",
    labelNames: ["namespace", "model", "strategy"] as const,
    registers: [this.registry],
    collect: () =>
      this.startAtZero(this.rolloutsStarted, (m) => STRATEGIES.map((strategy) => ({ ...m, strategy }))),
  });
  readonly rolloutsPromoted: Counter<"namespace" | "model"> = new Counter({
    name: "tradingmodel_rollouts_promoted_total",
    help: "Rollouts that ended with the new version taking all traffic, by model",
    labelNames: ["namespace", "model"] as const,
    registers: [this.registry],
    collect: () => this.startAtZero(this.rolloutsPromoted, (m) => [m]),
  });
  readonly rolloutsRolledBack: Counter<"namespace" | "model" | "reason"> = new Counter({
    name: "tradingmodel_rollouts_rolled_back_total",
    help: "Rollouts that ended with the stable version kept, by model and reason (the Event's reason)",
    labelNames: ["namespace", "model", "reason"] as const,
    registers: [this.registry],
    collect: () =>
      this.startAtZero(this.rolloutsRolledBack, (m) => ROLLBACK_REASONS.map((reason) => ({ ...m, reason }))),
  });

  /**
   * Every model's rollout series exist from the first scrape, at 0: increase() and changes() see
   * a counter's first step only from a sample before it, and a series born at 1 has none.
   */
  private startAtZero<L extends string>(
    counter: Counter<L>,
    series: (model: { namespace: string; model: string }) => Partial<Record<L, string>>[],
  ): void {
    for (const m of this.models()) for (const labels of series(modelLabels(m.ref))) counter.inc(labels, 0);
  }

  /** Read at scrape time from the caches: a model deleted from the cluster leaves no series behind. */
  private models: () => ModelSnapshot[] = () => [];
  /** The gauges of MODEL_GAUGES, registered here and filled at scrape time. */
  readonly modelGauges: Gauge[] = MODEL_GAUGES.map(([name, help, value]) =>
    this.modelGauge(name, help, value),
  );

  private modelGauge(name: string, help: string, value: (m: ModelSnapshot) => number | undefined): Gauge {
    const models = () => this.models();
    const gauge: Gauge = new Gauge({
      name,
      help,
      labelNames: ["namespace", "model"] as const,
      registers: [this.registry],
      collect(): void {
        gauge.reset();
        for (const m of models()) {
          const v = value(m);
          if (v !== undefined) gauge.set(modelLabels(m.ref), v);
        }
      },
    });
    return gauge;
  }

  /** Where the model gauges read the models from at scrape time (the informers' caches). */
  observeModels(read: () => ModelSnapshot[]): void {
    this.models = read;
  }

  /**
   * Counts what changed between the rollout status before and after a status write: a rollout that
   * started, one that ended, or both. Called after the write, so a failed write counts nothing and
   * a replayed reconcile (which finds its own write) counts nothing twice.
   */
  recordRolloutTransition(
    model: ModelRef,
    before: RolloutState | undefined,
    after: RolloutState | undefined,
  ): void {
    const { started, finished } = rolloutTransition(before, after);
    if (started) this.rolloutsStarted.inc({ ...modelLabels(model), strategy: started });
    if (finished?.outcome === "promoted") this.rolloutsPromoted.inc(modelLabels(model));
    if (finished?.outcome === "rolled_back")
      this.rolloutsRolledBack.inc({ ...modelLabels(model), reason: finished.reason });
  }

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: "tradingmodel_operator_" });
  }
}

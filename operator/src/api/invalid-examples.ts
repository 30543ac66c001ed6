import type { TradingModelSpecInput } from "./types.ts";

/**
 * TradingModels the apiserver must reject, each with the field its error must name. Unit tests
 * check them against the schema locally (local-admission.ts); the e2e suite applies them to a real
 * apiserver. Each differs from a valid model in exactly one respect.
 */

export interface InvalidExample {
  /** What is wrong, for test names. */
  case: string;
  /** The field path the rejection must name, as the apiserver prints it. */
  field: string;
  object: Record<string, unknown>;
}

const validSpec: TradingModelSpecInput = {
  features: ["ret_1", "ret_5", "vol_20", "sma_ratio_5_20"],
  target: { horizon: 1 },
  algorithm: { type: "Ridge", alpha: 1 },
  training: {
    data: { synthetic: { seed: 1, bars: 5000 } },
    gate: { minR2: 0, minDirectionalAccuracy: 0.5 },
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: 1, memory: "512Mi" } },
  },
  serving: { replicas: 2, autoscaling: { minReplicas: 1, maxReplicas: 4 } },
  rollout: { strategy: "Canary", canary: { steps: [10, 50, 100] }, shadow: { duration: "30s" } },
  analysis: { interval: "10s", accuracy: { min: 0.5 }, errorRate: { max: 0.01 }, latencyP95Ms: { max: 25 } },
};

export function validTradingModel(name = "valid-model"): Record<string, unknown> {
  return {
    apiVersion: "trading.mlops.dev/v1alpha1",
    kind: "TradingModel",
    metadata: { name, namespace: "default" },
    spec: structuredClone(validSpec),
  };
}

// biome-ignore lint/suspicious/noExplicitAny: the edits below deliberately break the typed shape
type Editable = any;

function variant(index: number, what: string, field: string, edit: (tm: Editable) => void): InvalidExample {
  const object = validTradingModel(`invalid-${String(index).padStart(2, "0")}`);
  edit(object);
  return { case: what, field, object };
}

const cases: [string, string, (tm: Editable) => void][] = [
  ["name longer than 40 characters", "metadata.name", (tm) => (tm.metadata.name = `m${"x".repeat(40)}`)],
  ["name starting with a digit", "metadata.name", (tm) => (tm.metadata.name = "1st-model")],
  ["no features", "spec.features", (tm) => (tm.spec.features = [])],
  ["unknown feature family", "spec.features[0]", (tm) => (tm.spec.features[0] = "momentum_5")],
  ["feature window 0", "spec.features[1]", (tm) => (tm.spec.features[1] = "ret_0")],
  ["duplicate feature", "spec.features[1]", (tm) => (tm.spec.features[1] = "ret_1")],
  ["horizon 0", "spec.target.horizon", (tm) => (tm.spec.target.horizon = 0)],
  ["unknown algorithm", "spec.algorithm.type", (tm) => (tm.spec.algorithm.type = "Lasso")],
  ["Ridge without alpha", "spec.algorithm.alpha", (tm) => delete tm.spec.algorithm.alpha],
  ["Linear with alpha", "spec.algorithm.alpha", (tm) => (tm.spec.algorithm.type = "Linear")],
  ["alpha 0", "spec.algorithm.alpha", (tm) => (tm.spec.algorithm.alpha = 0)],
  ["no training", "spec.training", (tm) => delete tm.spec.training],
  [
    "two data sources",
    "spec.training.data",
    (tm) => (tm.spec.training.data.url = "https://example.com/bars.csv"),
  ],
  ["no data source", "spec.training.data", (tm) => (tm.spec.training.data = {})],
  [
    "data URL not http(s)",
    "spec.training.data.url",
    (tm) => (tm.spec.training.data = { url: "ftp://host/bars.csv" }),
  ],
  [
    "synthetic bars below 500",
    "spec.training.data.synthetic.bars",
    (tm) => (tm.spec.training.data.synthetic.bars = 10),
  ],
  [
    "unknown regime",
    "spec.training.data.synthetic.regime",
    (tm) => (tm.spec.training.data.synthetic.regime = "Sideways"),
  ],
  [
    "drift after the last bar",
    "spec.training.data.synthetic.drift.fromBar",
    (tm) => (tm.spec.training.data.synthetic.drift = { fromBar: 5000 }),
  ],
  ["unknown non-finite policy", "spec.training.nonFinite", (tm) => (tm.spec.training.nonFinite = "Impute")],
  ["interval level 100%", "spec.training.intervalLevel", (tm) => (tm.spec.training.intervalLevel = 1)],
  ["holdout 90%", "spec.training.holdoutFraction", (tm) => (tm.spec.training.holdoutFraction = 0.9)],
  [
    "directional accuracy above 1",
    "spec.training.gate.minDirectionalAccuracy",
    (tm) => (tm.spec.training.gate.minDirectionalAccuracy = 1.5),
  ],
  ["R² above 1", "spec.training.gate.minR2", (tm) => (tm.spec.training.gate.minR2 = 2)],
  [
    "negative transaction cost",
    "spec.training.strategy.costBps",
    (tm) => (tm.spec.training.strategy = { costBps: -1 }),
  ],
  [
    "zero position limit",
    "spec.training.strategy.positionLimit",
    (tm) => (tm.spec.training.strategy = { positionLimit: 0 }),
  ],
  ["max drawdown of 0", "spec.training.gate.maxDrawdown", (tm) => (tm.spec.training.gate.maxDrawdown = 0)],
  [
    "time zone without schedule",
    "spec.training.timeZone",
    (tm) => (tm.spec.training.timeZone = "Europe/Zurich"),
  ],
  ["schedule not cron", "spec.training.schedule", (tm) => (tm.spec.training.schedule = "every day")],
  ["negative backoffLimit", "spec.training.backoffLimit", (tm) => (tm.spec.training.backoffLimit = -1)],
  [
    "deadline 5 s",
    "spec.training.activeDeadlineSeconds",
    (tm) => (tm.spec.training.activeDeadlineSeconds = 5),
  ],
  [
    "memory limit below request",
    "spec.training.resources.limits.memory",
    (tm) => (tm.spec.training.resources.limits.memory = "128Mi"),
  ],
  [
    "CPU not a quantity",
    "spec.serving.resources.requests.cpu",
    (tm) => (tm.spec.serving.resources = { requests: { cpu: "lots" } }),
  ],
  [
    "unknown resource",
    "spec.serving.resources.requests.gpu",
    (tm) => (tm.spec.serving.resources = { requests: { gpu: 1 } }),
  ],
  ["zero replicas", "spec.serving.replicas", (tm) => (tm.spec.serving.replicas = 0)],
  [
    "minReplicas above maxReplicas",
    "spec.serving.autoscaling.minReplicas",
    (tm) => (tm.spec.serving.autoscaling = { minReplicas: 5, maxReplicas: 3 }),
  ],
  ["replicas above maxReplicas", "spec.serving.replicas", (tm) => (tm.spec.serving.replicas = 6)],
  ["unknown strategy", "spec.rollout.strategy", (tm) => (tm.spec.rollout.strategy = "Linear")],
  [
    "steps not increasing",
    "spec.rollout.canary.steps",
    (tm) => (tm.spec.rollout.canary.steps = [50, 25, 100]),
  ],
  ["step 0", "spec.rollout.canary.steps[0]", (tm) => (tm.spec.rollout.canary.steps = [0, 50])],
  ["step above 100", "spec.rollout.canary.steps[1]", (tm) => (tm.spec.rollout.canary.steps = [50, 150])],
  ["repeated step", "spec.rollout.canary.steps[1]", (tm) => (tm.spec.rollout.canary.steps = [50, 50, 100])],
  [
    "blueGreen with Canary",
    "spec.rollout.blueGreen",
    (tm) => (tm.spec.rollout.blueGreen = { autoPromote: true }),
  ],
  ["canary with BlueGreen", "spec.rollout.canary", (tm) => (tm.spec.rollout.strategy = "BlueGreen")],
  ["unknown traffic mode", "spec.rollout.traffic", (tm) => (tm.spec.rollout.traffic = "Istio")],
  [
    "shadow duration not a duration",
    "spec.rollout.shadow.duration",
    (tm) => (tm.spec.rollout.shadow.duration = "2 minutes"),
  ],
  [
    "shadow shorter than 10 s",
    "spec.rollout.shadow.duration",
    (tm) => (tm.spec.rollout.shadow.duration = "1s"),
  ],
  [
    "strategy Shadow without shadow.duration",
    "spec.rollout.shadow",
    (tm) => {
      tm.spec.rollout = { strategy: "Shadow" };
    },
  ],
  [
    "sign agreement without a shadow phase",
    "spec.analysis.signAgreement",
    (tm) => {
      delete tm.spec.rollout.shadow;
      tm.spec.analysis.signAgreement = { min: 0.9 };
    },
  ],
  [
    "mean absolute difference without a shadow phase",
    "spec.analysis.meanAbsDiff",
    (tm) => {
      delete tm.spec.rollout.shadow;
      tm.spec.analysis.meanAbsDiff = { max: 0.001 };
    },
  ],
  [
    "sign agreement above 1",
    "spec.analysis.signAgreement.min",
    (tm) => (tm.spec.analysis.signAgreement = { min: 1.5 }),
  ],
  ["analysis interval 500 ms", "spec.analysis.interval", (tm) => (tm.spec.analysis.interval = "500ms")],
  ["unknown onNoData", "spec.analysis.onNoData", (tm) => (tm.spec.analysis.onNoData = "Ignore")],
  ["accuracy above 1", "spec.analysis.accuracy.min", (tm) => (tm.spec.analysis.accuracy.min = 1.2)],
  ["negative error rate", "spec.analysis.errorRate.max", (tm) => (tm.spec.analysis.errorRate.max = -0.1)],
  [
    "latency threshold missing its bound",
    "spec.analysis.latencyP95Ms.max",
    (tm) => (tm.spec.analysis.latencyP95Ms = {}),
  ],
  ["history limit 1", "spec.versionHistoryLimit", (tm) => (tm.spec.versionHistoryLimit = 1)],
  ["unknown training field", "spec.training.epochs", (tm) => (tm.spec.training.epochs = 10)],
  [
    "negative latency alert",
    "spec.monitoring.alerts.latencyP95Ms.threshold",
    (tm) => (tm.spec.monitoring = { alerts: { latencyP95Ms: { threshold: -5 } } }),
  ],
  [
    "accuracy alert above 1",
    "spec.monitoring.alerts.accuracy.threshold",
    (tm) => (tm.spec.monitoring = { alerts: { accuracy: { threshold: 1.5 } } }),
  ],
  [
    "alert duration not a duration",
    "spec.monitoring.alerts.errorRate.for",
    (tm) => (tm.spec.monitoring = { alerts: { errorRate: { for: "five minutes" } } }),
  ],
  [
    "alert duration Prometheus cannot read",
    "spec.monitoring.alerts.noData.for",
    (tm) => (tm.spec.monitoring = { alerts: { noData: { for: "1.5m" } } }),
  ],
  [
    "no-data window Prometheus refuses",
    "spec.monitoring.alerts.noData.for",
    (tm) => (tm.spec.monitoring = { alerts: { noData: { for: "0s" } } }),
  ],
  [
    "retrain due after more than a year",
    "spec.monitoring.alerts.retrainDue.after",
    (tm) => (tm.spec.monitoring = { alerts: { retrainDue: { after: "9000h" } } }),
  ],
  [
    "scaling-limit alert without autoscaling",
    "spec.monitoring.alerts.scalingLimit",
    (tm) => {
      tm.spec.serving = { replicas: 2 };
      tm.spec.monitoring = { alerts: { scalingLimit: { threshold: 0.8 } } };
    },
  ],
];

export const invalidTradingModels: readonly InvalidExample[] = cases.map(([what, field, edit], i) =>
  variant(i + 1, what, field, edit),
);

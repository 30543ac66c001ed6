import type { KubernetesObject } from "@kubernetes/client-node";
import { DEFAULT_ALERTS } from "../api/monitoring.ts";
import type { TradingModel } from "../api/types.ts";
import { labels } from "./names.ts";
import { ownedBy } from "./owner.ts";
import { parseQuantity } from "./quantity.ts";

export const PROMETHEUS_RULE_API_VERSION = "monitoring.coreos.com/v1";

/** The label every model's PrometheusRule carries, for a Prometheus' ruleSelector. */
export const RULE_SELECTOR_LABEL = { "trading.mlops.dev/alert-rules": "true" } as const;

/** The routes that serve predictions: the alerts on latency, errors and traffic read these. */
const PREDICT_ROUTES = 'route=~"/v1/predict.*"';

export type Severity = "critical" | "warning" | "info";

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels: Record<string, string>;
  annotations: { summary: string; description: string; runbook_url: string };
}

export interface PrometheusRule extends KubernetesObject {
  spec: { groups: { name: string; rules: AlertRule[] }[] };
}

type Alerts = typeof DEFAULT_ALERTS;
type AlertSettings = {
  [K in keyof Alerts]: { -readonly [F in keyof Alerts[K]]: Alerts[K][F] extends number ? number : string };
};

/** The spec's overrides on top of the seeds' defaults, field by field. */
export function alertSettings(model: TradingModel): AlertSettings {
  const given = (model.spec.monitoring?.alerts ?? {}) as Partial<Record<keyof Alerts, object>>;
  return Object.fromEntries(
    Object.entries(DEFAULT_ALERTS).map(([name, defaults]) => [
      name,
      { ...defaults, ...given[name as keyof Alerts] },
    ]),
  ) as AlertSettings;
}

/** Cores in a Kubernetes CPU quantity (500m, 2, 1.5, 5e-1); undefined when none is set. */
export function cpuCores(quantity: string | number | undefined, field: string): number | undefined {
  if (quantity === undefined) return undefined;
  return typeof quantity === "number" ? quantity : parseQuantity(quantity, field);
}

/** Seconds in a duration of whole h, m and s (PROMETHEUS_DURATION_PATTERN). */
export function durationSeconds(duration: string): number {
  const unit: Record<string, number> = { h: 3600, m: 60, s: 1 };
  let seconds = 0;
  for (const [, n, u] of duration.matchAll(/(\d+)([hms])/g))
    seconds += Number(n) * (unit[u as string] as number);
  return seconds;
}

/** A share as a percentage without float noise: 0.07 is 7%, not 7.000000000000001%. */
const percent = (share: number) => `${Number((share * 100).toFixed(6))}%`;

/** The runbook of an alert: its section in docs/monitoring.md (a heading's anchor is its lowercased name). */
const runbook = (base: string, alert: string) => `${base}#${alert.toLowerCase()}`;

/**
 * The model's alerts as one `monitoring.coreos.com/v1` PrometheusRule, owned by the model and named
 * after it. Thresholds and durations come from `spec.monitoring.alerts` over the seeds' defaults;
 * every expression selects the model's series by `namespace` and `model`, the labels its scraped
 * predictors and the operator's business metrics carry. Pure: the same model gives the same rule.
 */
export function prometheusRule(model: TradingModel): PrometheusRule {
  const { name, namespace, uid } = model.metadata;
  const a = alertSettings(model);
  const sel = `namespace="${namespace}",model="${name}"`;
  const base = model.spec.monitoring?.runbookBaseUrl ?? "docs/monitoring.md";
  const who = `${namespace}/${name}`;
  const rule = (
    alert: string,
    severity: Severity,
    expr: string,
    forDuration: string | undefined,
    summary: string,
    description: string,
  ): AlertRule => ({
    alert,
    expr,
    ...(forDuration === undefined ? {} : { for: forDuration }),
    labels: { severity, namespace, model: name },
    annotations: { summary, description, runbook_url: runbook(base, alert) },
  });
  const perTrack = (metric: string, window: string, extra = "") =>
    `sum by (track) (rate(${metric}{${sel}${extra}}[${window}]))`;
  const track = "{{ $labels.track }}";
  const value = (format: string) => `{{ $value | printf "${format}" }}`;
  const share = "{{ $value | humanizePercentage }}";
  const serving = model.spec.serving;
  const cpuLimit =
    cpuCores(
      serving.resources?.limits?.cpu as string | number | undefined,
      "spec.serving.resources.limits.cpu",
    ) ??
    cpuCores(
      serving.resources?.requests?.cpu as string | number | undefined,
      "spec.serving.resources.requests.cpu",
    );

  const rules: AlertRule[] = [
    rule(
      "TradingModelHighLatency",
      "critical",
      `histogram_quantile(0.95, sum by (track, le) (rate(predictor_http_request_duration_seconds_bucket{${sel},${PREDICT_ROUTES}}[1m]))) * 1000 > ${a.latencyP95Ms.threshold}`,
      a.latencyP95Ms.for,
      `${who}: p95 prediction latency above ${a.latencyP95Ms.threshold} ms`,
      `p95 latency of the ${track} predictors of ${who} is ${value("%.1f")} ms, above ${a.latencyP95Ms.threshold} ms for ${a.latencyP95Ms.for}.`,
    ),
    rule(
      "TradingModelHighErrorRate",
      "critical",
      `${perTrack("predictor_http_requests_total", "1m", `,${PREDICT_ROUTES},status=~"5.."`)} / ${perTrack("predictor_http_requests_total", "1m", `,${PREDICT_ROUTES}`)} > ${a.errorRate.threshold}`,
      a.errorRate.for,
      `${who}: more than ${percent(a.errorRate.threshold)} of predictions fail`,
      `${share} of the prediction requests to the ${track} predictors of ${who} were answered 5xx, above ${percent(a.errorRate.threshold)}, for ${a.errorRate.for}.`,
    ),
    rule(
      "TradingModelLowAccuracy",
      "critical",
      `(sum by (track) (increase(predictor_feedback_hits_total{${sel}}[10m])) / sum by (track) (increase(predictor_feedback_total{${sel}}[10m])) < ${a.accuracy.threshold}) and sum by (track) (increase(predictor_feedback_total{${sel}}[10m])) >= ${a.accuracy.minSamples}`,
      a.accuracy.for,
      `${who}: directional accuracy below ${percent(a.accuracy.threshold)}`,
      `Directional accuracy of the ${track} predictions of ${who} over 10 minutes of feedback is ${share}, below ${percent(a.accuracy.threshold)}, for ${a.accuracy.for}.`,
    ),
    // The window is the duration: "no prediction for 5m" is an increase of 0 over 5m, true at once.
    rule(
      "TradingModelNoData",
      "critical",
      `(sum(increase(predictor_predictions_total{${sel}}[${a.noData.for}])) or vector(0)) == 0`,
      undefined,
      `${who}: no predictions for ${a.noData.for}`,
      `No predictor of ${who} predicted anything in the last ${a.noData.for}: no traffic reaches it, or no predictor is scraped.`,
    ),
    ...(cpuLimit === undefined
      ? []
      : [
          rule(
            "TradingModelHighCPU",
            "warning",
            `sum by (pod) (rate(predictor_process_cpu_seconds_total{${sel}}[1m])) / ${cpuLimit} > ${a.cpuUtilization.threshold}`,
            a.cpuUtilization.for,
            `${who}: a predictor uses more than ${percent(a.cpuUtilization.threshold)} of its CPU`,
            `Predictor pod {{ $labels.pod }} of ${who} uses ${share} of its CPU limit (${cpuLimit} cores), above ${percent(a.cpuUtilization.threshold)}, for ${a.cpuUtilization.for}.`,
          ),
        ]),
    rule(
      "TradingModelStaleData",
      "warning",
      `time() - max(predictor_data_newest_bar_timestamp_seconds{${sel}}) > ${a.dataAgeSeconds.threshold}`,
      a.dataAgeSeconds.for,
      `${who}: input data older than ${a.dataAgeSeconds.threshold} s`,
      `The newest bar the predictors of ${who} saw is ${value("%.0f")} s old, above ${a.dataAgeSeconds.threshold} s, for ${a.dataAgeSeconds.for}.`,
    ),
    rule(
      "TradingModelLowConfidence",
      "warning",
      `${perTrack("predictor_prediction_confidence_sum", "10m")} / ${perTrack("predictor_prediction_confidence_count", "10m")} < ${a.confidence.threshold}`,
      a.confidence.for,
      `${who}: mean prediction confidence below ${percent(a.confidence.threshold)}`,
      `Mean confidence (probability of the predicted sign) of the ${track} predictions of ${who} over 10 minutes is ${share}, below ${percent(a.confidence.threshold)}, for ${a.confidence.for}.`,
    ),
    rule(
      "TradingModelFeatureDrift",
      "warning",
      `max by (track, feature) (predictor_feature_psi{${sel}}) > ${a.featureDrift.threshold}`,
      a.featureDrift.for,
      `${who}: feature {{ $labels.feature }} drifted from training`,
      `PSI of feature {{ $labels.feature }} on the ${track} predictors of ${who} is ${value("%.3f")}, above ${a.featureDrift.threshold}, for ${a.featureDrift.for}.`,
    ),
    rule(
      "TradingModelRetrainDue",
      "info",
      `time() - max(tradingmodel_last_training_timestamp_seconds{${sel}}) > ${durationSeconds(a.retrainDue.after)}`,
      a.retrainDue.for,
      `${who}: retrain due (last training over ${a.retrainDue.after} ago)`,
      `The newest version of ${who} was trained {{ $value | humanizeDuration }} ago, more than ${a.retrainDue.after}.`,
    ),
    ...(serving.autoscaling === undefined
      ? []
      : [
          rule(
            "TradingModelNearScalingLimit",
            "info",
            `sum(predictor_ready{${sel},track="stable"}) / ${serving.autoscaling.maxReplicas} >= ${a.scalingLimit.threshold}`,
            a.scalingLimit.for,
            `${who}: near its autoscaling limit of ${serving.autoscaling.maxReplicas} pods`,
            `${who} runs ${share} of its maxReplicas ${serving.autoscaling.maxReplicas} as ready stable pods, at or above ${percent(a.scalingLimit.threshold)}, for ${a.scalingLimit.for}.`,
          ),
        ]),
  ];
  return {
    apiVersion: PROMETHEUS_RULE_API_VERSION,
    kind: "PrometheusRule",
    metadata: {
      name,
      namespace,
      labels: { ...labels(name, "monitoring"), ...RULE_SELECTOR_LABEL, ...model.spec.monitoring?.ruleLabels },
      ownerReferences: ownedBy({ name, uid }),
    },
    spec: { groups: [{ name: `tradingmodel.${namespace}.${name}`, rules }] },
  };
}

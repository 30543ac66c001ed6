import * as common from "@grafana/grafana-foundation-sdk/common";
import type { Dashboard } from "@grafana/grafana-foundation-sdk/dashboard";
import {
  AnnotationQueryBuilder,
  DashboardBuilder,
  DatasourceVariableBuilder,
  QueryVariableBuilder,
  RowBuilder,
  ThresholdsConfigBuilder,
  ThresholdsMode,
  VariableRefresh,
} from "@grafana/grafana-foundation-sdk/dashboard";
import { DataqueryBuilder } from "@grafana/grafana-foundation-sdk/prometheus";
import { PanelBuilder } from "@grafana/grafana-foundation-sdk/timeseries";
import { DEFAULT_ALERTS } from "../api/monitoring.ts";

/** The dashboard's Prometheus: a datasource variable, so it works with whichever one the Grafana has. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's variable syntax, which Grafana substitutes
const DATASOURCE = { type: "prometheus", uid: "${datasource}" };

/** The model's predictor series, by the dashboard's variables. */
const SEL = 'namespace="$namespace",model="$model",version=~"$version"';
/** The operator's business series carry no version. */
const MODEL = 'namespace="$namespace",model="$model"';
const PREDICT = 'route=~"/v1/predict.*"';
const RATE = "$__rate_interval";

export interface PanelQuery {
  expr: string;
  legend: string;
}

export interface PanelSpec {
  title: string;
  /** The seeds' question the panel answers (docs/monitoring.md, Dashboard). */
  question: string;
  unit: string;
  queries: PanelQuery[];
  /** An alert's level drawn on the panel: bad above it, or bad below it. */
  threshold?: { value: number; bad: "above" | "below" };
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

const a = DEFAULT_ALERTS;
const ratio = (numerator: string, denominator: string) => `${numerator} / ${denominator}`;

/** The four layers, a row each, and the rollout panels read from the operator's metrics. */
export const ROWS: RowSpec[] = [
  {
    title: "Data",
    panels: [
      {
        title: "Data age",
        question: "Is the data the model sees fresh?",
        unit: "s",
        queries: [
          {
            expr: `time() - max by (track) (predictor_data_newest_bar_timestamp_seconds{${SEL}})`,
            legend: "{{track}}",
          },
        ],
        threshold: { value: a.dataAgeSeconds.threshold, bad: "above" },
      },
      {
        title: "Refused inputs by reason",
        question: "How much of the input is refused, and why?",
        unit: "percentunit",
        queries: [
          {
            expr: ratio(
              `sum by (reason) (rate(predictor_rejected_inputs_total{${SEL}}[${RATE}]))`,
              `scalar(sum(rate(predictor_http_requests_total{${SEL},${PREDICT}}[${RATE}])))`,
            ),
            legend: "{{reason}}",
          },
        ],
      },
      {
        title: "Feature drift (PSI)",
        question: "Has the input drifted from the training data?",
        unit: "none",
        queries: [{ expr: `max by (feature) (predictor_feature_psi{${SEL}})`, legend: "{{feature}}" }],
        threshold: { value: a.featureDrift.threshold, bad: "above" },
      },
      {
        title: "Feature KS and prediction drift",
        question: "Do features and predictions still look like training and holdout?",
        unit: "none",
        queries: [
          { expr: `max by (feature) (predictor_feature_ks{${SEL}})`, legend: "KS {{feature}}" },
          {
            expr: `max by (statistic) (predictor_prediction_drift{${SEL}})`,
            legend: "predictions {{statistic}}",
          },
        ],
      },
    ],
  },
  {
    title: "Model",
    panels: [
      {
        title: "Directional accuracy",
        question: "Is the model still right often enough, per version and track?",
        unit: "percentunit",
        queries: [
          {
            expr: ratio(
              `sum by (track, version) (increase(predictor_feedback_hits_total{${SEL}}[10m]))`,
              `sum by (track, version) (increase(predictor_feedback_total{${SEL}}[10m]))`,
            ),
            legend: "{{track}} {{version}}",
          },
        ],
        threshold: { value: a.accuracy.threshold, bad: "below" },
      },
      {
        title: "Interval coverage",
        question: "Do realized returns fall inside the prediction interval as often as promised?",
        unit: "percentunit",
        queries: [
          {
            expr: ratio(
              `sum by (track) (increase(predictor_feedback_in_interval_total{${SEL}}[10m]))`,
              `sum by (track) (increase(predictor_feedback_total{${SEL}}[10m]))`,
            ),
            legend: "{{track}}",
          },
          { expr: `max(predictor_interval_nominal_level{${SEL}})`, legend: "nominal" },
        ],
      },
      {
        title: "Prediction confidence",
        question: "How sure is the model of the sign it predicts?",
        unit: "percentunit",
        queries: [
          {
            expr: ratio(
              `sum by (track) (rate(predictor_prediction_confidence_sum{${SEL}}[${RATE}]))`,
              `sum by (track) (rate(predictor_prediction_confidence_count{${SEL}}[${RATE}]))`,
            ),
            legend: "{{track}}",
          },
        ],
        threshold: { value: a.confidence.threshold, bad: "below" },
      },
    ],
  },
  {
    title: "System",
    panels: [
      {
        title: "p95 latency",
        question: "Are predictions fast enough?",
        unit: "ms",
        queries: [
          {
            expr: `histogram_quantile(0.95, sum by (track, le) (rate(predictor_http_request_duration_seconds_bucket{${SEL},${PREDICT}}[${RATE}]))) * 1000`,
            legend: "{{track}}",
          },
        ],
        threshold: { value: a.latencyP95Ms.threshold, bad: "above" },
      },
      {
        title: "Throughput",
        question: "How much traffic does each track take?",
        unit: "reqps",
        queries: [
          {
            expr: `sum by (track) (rate(predictor_http_requests_total{${SEL},${PREDICT}}[${RATE}]))`,
            legend: "{{track}}",
          },
        ],
      },
      {
        title: "Errors by reason",
        question: "What fails, and why?",
        unit: "reqps",
        queries: [
          {
            expr: `sum by (reason) (rate(predictor_http_errors_total{${SEL}}[${RATE}]))`,
            legend: "{{reason}}",
          },
        ],
      },
      {
        title: "CPU per pod",
        question: "Is any predictor short of CPU?",
        unit: "cores",
        queries: [
          {
            expr: `sum by (pod) (rate(predictor_process_cpu_seconds_total{${SEL}}[${RATE}]))`,
            legend: "{{pod}}",
          },
        ],
      },
      {
        title: "Memory per pod",
        question: "Is any predictor short of memory?",
        unit: "bytes",
        queries: [
          { expr: `sum by (pod) (predictor_process_resident_memory_bytes{${SEL}})`, legend: "{{pod}}" },
        ],
      },
      {
        title: "Ready replicas per track",
        question: "How many pods serve each track?",
        unit: "none",
        queries: [{ expr: `sum by (track) (predictor_ready{${SEL}})`, legend: "{{track}}" }],
      },
    ],
  },
  {
    title: "Business and rollouts",
    panels: [
      {
        title: "Canary weight and step",
        question: "Where does the rollout stand?",
        unit: "none",
        queries: [
          { expr: `max(tradingmodel_canary_weight_percent{${MODEL}})`, legend: "weight %" },
          { expr: `max(tradingmodel_rollout_step{${MODEL}})`, legend: "step" },
          { expr: `max(tradingmodel_stable_version{${MODEL}})`, legend: "stable version" },
        ],
      },
      {
        title: "Rollouts",
        question: "How many rollouts started, were promoted, were rolled back, and why?",
        unit: "none",
        queries: [
          { expr: `sum(increase(tradingmodel_rollouts_started_total{${MODEL}}[1h]))`, legend: "started" },
          { expr: `sum(increase(tradingmodel_rollouts_promoted_total{${MODEL}}[1h]))`, legend: "promoted" },
          {
            expr: `sum by (reason) (increase(tradingmodel_rollouts_rolled_back_total{${MODEL}}[1h]))`,
            legend: "rolled back: {{reason}}",
          },
        ],
      },
      {
        title: "Model age and time since training",
        question: "How old is the serving model, and is a retrain due?",
        unit: "s",
        queries: [
          {
            expr: `time() - max(tradingmodel_stable_version_trained_timestamp_seconds{${MODEL}})`,
            legend: "stable version age",
          },
          {
            expr: `time() - max(tradingmodel_last_training_timestamp_seconds{${MODEL}})`,
            legend: "since last training",
          },
        ],
      },
    ],
  },
];

/** Green then red at the alert's level, drawn as a dashed line. */
function thresholds(threshold: PanelSpec["threshold"]) {
  if (!threshold) return undefined;
  const [before, after] = threshold.bad === "above" ? ["green", "red"] : ["red", "green"];
  return new ThresholdsConfigBuilder().mode(ThresholdsMode.Absolute).steps([
    { value: null, color: before },
    { value: threshold.value, color: after },
  ]);
}

function panel(spec: PanelSpec): PanelBuilder {
  const builder = new PanelBuilder()
    .title(spec.title)
    .description(spec.question)
    .datasource(DATASOURCE)
    .unit(spec.unit)
    .height(8)
    .span(8);
  spec.queries.forEach((q, i) => {
    builder.withTarget(
      new DataqueryBuilder()
        .datasource(DATASOURCE)
        .expr(q.expr)
        .legendFormat(q.legend)
        .refId(String.fromCharCode(65 + i)),
    );
  });
  const steps = thresholds(spec.threshold);
  if (steps) {
    builder
      .thresholds(steps)
      .thresholdsStyle(
        new common.GraphThresholdsStyleConfigBuilder().mode(common.GraphThresholdsStyleMode.Dashed),
      );
  }
  return builder;
}

function variable(name: string, label: string, query: string) {
  return new QueryVariableBuilder(name)
    .label(label)
    .datasource(DATASOURCE)
    .query(query)
    .definition(query)
    .refresh(VariableRefresh.OnTimeRangeChanged);
}

/** The dashboard's query variables, each narrowing the next (Grafana's label_values). */
export const VARIABLES = [
  { name: "namespace", label: "Namespace", query: "label_values(predictor_ready, namespace)" },
  { name: "model", label: "Model", query: 'label_values(predictor_ready{namespace="$namespace"}, model)' },
  {
    name: "version",
    label: "Version",
    query: 'label_values(predictor_ready{namespace="$namespace",model="$model"}, version)',
  },
] as const;

/** Promotions and rollbacks as events on the time axis, from the operator's counters. */
function rolloutAnnotation(name: string, metric: string, color: string) {
  return new AnnotationQueryBuilder()
    .name(name)
    .datasource(DATASOURCE)
    .enable(true)
    .iconColor(color)
    .expr(`changes(${metric}{${MODEL}}[2m]) > 0`)
    .step("1m")
    .titleFormat(name)
    .useValueForTime(false);
}

export const ANNOTATION_QUERIES = [
  { name: "Promotion", metric: "tradingmodel_rollouts_promoted_total", color: "green" },
  { name: "Rollback", metric: "tradingmodel_rollouts_rolled_back_total", color: "red" },
] as const;

/** The TradingModel dashboard: four rows (data, model, system, business and rollouts). */
export function tradingModelDashboard(): Dashboard {
  const builder = new DashboardBuilder("TradingModel")
    .uid("tradingmodel")
    .description("A trading model's four monitoring layers and its rollouts (docs/monitoring.md).")
    .tags(["tradingmodel", "generated"])
    .refresh("30s")
    .time({ from: "now-3h", to: "now" })
    .timezone("utc")
    .withVariable(new DatasourceVariableBuilder("datasource").label("Prometheus").type("prometheus"));
  for (const v of VARIABLES) {
    const query = variable(v.name, v.label, v.query);
    // Versions: any number of them, all by default (the panels match them with =~).
    if (v.name === "version") query.multi(true).includeAll(true).allValue(".*");
    builder.withVariable(query);
  }
  for (const a of ANNOTATION_QUERIES) builder.annotation(rolloutAnnotation(a.name, a.metric, a.color));
  for (const row of ROWS) {
    builder.withRow(new RowBuilder(row.title));
    for (const spec of row.panels) builder.withPanel(panel(spec));
  }
  return builder.build();
}

/** The dashboard as the file checked in and shipped in the chart. */
export const dashboardJson = () => `${JSON.stringify(tradingModelDashboard(), null, 2)}\n`;

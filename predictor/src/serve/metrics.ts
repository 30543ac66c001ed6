import { createRequire } from "node:module";
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import { signConfidence } from "./confidence.ts";
import type { DriftWindow } from "./drift-window.ts";
import type { ServedModel } from "./model.ts";
import { PlainHistogram, ResponseStats, registerOptionalGauge } from "./response-stats.ts";

/**
 * Latency buckets in seconds, fine from 0.25 ms to 50 ms so that p95 read with
 * histogram_quantile is within a bucket's width wherever the rollout's latency budget sits.
 */
export const LATENCY_BUCKETS = [
  0.00025, 0.0005, 0.00075, 0.001, 0.0015, 0.002, 0.003, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.025, 0.035, 0.05,
  0.075, 0.1, 0.25, 0.5, 1,
];

/** |primary - shadow| of one prediction; predictions are returns, so 1e-5 to 0.1 covers them. */
export const SHADOW_DIFF_BUCKETS = [
  1e-6, 1e-5, 5e-5, 1e-4, 2.5e-4, 5e-4, 1e-3, 2.5e-3, 5e-3, 1e-2, 2.5e-2, 5e-2, 0.1,
];

/** Prediction confidence (probability of the predicted sign): fine around 0.5-0.7, where return models live. */
export const CONFIDENCE_BUCKETS = [0.5, 0.525, 0.55, 0.575, 0.6, 0.65, 0.7, 0.75, 0.8, 0.9, 0.95, 0.99];

export const REQUEST_DURATION = {
  name: "predictor_http_request_duration_seconds",
  help: "Time from receiving a request to sending its response, by route and status code",
};
export const REQUESTS = {
  name: "predictor_http_requests_total",
  help: "Requests answered, by route and status code",
};

export interface ServeLabels {
  model: string;
  version: string;
  track: string;
}

const requireFromHere = createRequire(import.meta.url);

type RuntimeCollector = (
  registry: Registry,
  config: { prefix: string; eventLoopMonitoringPrecision: number },
) => void;

/** The one default metric of prom-client the predictor leaves out (see collectRuntimeMetrics). */
const LEFT_OUT_DEFAULT_METRIC = "gc";

/**
 * prom-client's default metrics, as collectDefaultMetrics registers them, all but
 * nodejs_gc_duration_seconds. That one observes every collection from JS (a perf_hooks
 * observer): Node builds objects for each collection, and they outlive the next one. At 21,500
 * requests/s they were two thirds of what the predictor promoted to the old generation, which
 * then took a mark-compact of about 10 ms every 12 s; without it the p99 at half the peak went
 * from 4.5x to 1.6x bare node:http's (docs/benchmarks.md). Pauses still show in
 * nodejs_eventloop_lag_*. prom-client has no option to leave one out and exports no collector
 * alone, so each is required by its name in the public metricsList: a version that moves them
 * fails at start, and a unit test compares the names served with the default ones.
 */
function collectRuntimeMetrics(registry: Registry): void {
  for (const name of collectDefaultMetrics.metricsList) {
    if (name === LEFT_OUT_DEFAULT_METRIC) continue;
    const collect = requireFromHere(`prom-client/lib/metrics/${name}.js`) as RuntimeCollector;
    collect(registry, { prefix: "predictor_", eventLoopMonitoringPrecision: 10 });
  }
}

/**
 * The predictor's metrics, on a registry of its own. Every series carries model, version and
 * track (registry default labels), so the operator's analysis can compare canary with stable.
 */
export function createMetrics(labels: ServeLabels) {
  const registry = new Registry();
  registry.setDefaultLabels({ ...labels });
  collectRuntimeMetrics(registry);
  const registers = [registry];
  let drift: DriftWindow | undefined;
  let confidenceOf: ((prediction: number) => number) | undefined;
  let interval = { lower: 0, upper: 0 };
  /** Epoch milliseconds of the newest bar seen in a {bars} row; NaN until one is. */
  let newestBarMs = Number.NaN;
  const confidence = new PlainHistogram(
    registry,
    {
      name: "predictor_prediction_confidence",
      help: "Probability that the realized return has the predicted sign, from the holdout residuals (docs/monitoring.md)",
    },
    CONFIDENCE_BUCKETS,
  );
  registerOptionalGauge(
    registry,
    {
      name: "predictor_data_newest_bar_timestamp_seconds",
      help: "Timestamp of the newest bar seen in a predicted {bars} row (data age: time() minus this)",
    },
    () => (Number.isNaN(newestBarMs) ? undefined : newestBarMs / 1000),
  );
  /** A gauge of one drift statistic of each feature over the window, read at scrape time. */
  const featureGauge = (name: string, help: string, statistic: "psi" | "ks") =>
    new Gauge({
      name,
      help,
      labelNames: ["feature"] as const,
      registers,
      collect() {
        for (const feature of drift?.featureDrift() ?? [])
          this.set({ feature: feature.feature }, feature[statistic]);
      },
    });
  const responses = new ResponseStats(LATENCY_BUCKETS);
  responses.register(registry, REQUEST_DURATION, REQUESTS);

  const metrics = {
    registry,
    errors: new Counter({
      name: "predictor_http_errors_total",
      help: "Requests answered with an error, by route and reason",
      labelNames: ["route", "reason"] as const,
      registers,
    }),
    predictions: new Counter({
      name: "predictor_predictions_total",
      help: "Rows predicted (a batch counts each row)",
      registers,
    }),
    feedback: new Counter({
      name: "predictor_feedback_total",
      help: "Feedback matched to a prediction of this version",
      registers,
    }),
    feedbackHits: new Counter({
      name: "predictor_feedback_hits_total",
      help: "Matched feedback whose realized return had the predicted sign",
      registers,
    }),
    feedbackInInterval: new Counter({
      name: "predictor_feedback_in_interval_total",
      help: "Matched feedback whose realized return fell inside the prediction interval",
      registers,
    }),
    intervalLevel: new Gauge({
      name: "predictor_interval_nominal_level",
      help: "Nominal level of the prediction interval (the coverage it promises)",
      registers,
    }),
    rejectedInputs: new Counter({
      name: "predictor_rejected_inputs_total",
      help: "Prediction requests refused for their input (4xx on /v1/predict and /v1/predict/batch), by reason",
      labelNames: ["reason"] as const,
      registers,
    }),
    featureKs: featureGauge(
      "predictor_feature_ks",
      "Kolmogorov-Smirnov statistic of each feature over the recent-rows window against training, at the training deciles",
      "ks",
    ),
    predictionDrift: new Gauge({
      name: "predictor_prediction_drift",
      help: "PSI and KS (statistic label) of the recent-rows window's predictions against the holdout's predictions",
      labelNames: ["statistic"] as const,
      registers,
      collect() {
        const d = drift?.predictionDrift();
        if (!d) return;
        this.set({ statistic: "psi" }, d.psi);
        this.set({ statistic: "ks" }, d.ks);
      },
    }),
    feedbackUnmatched: new Counter({
      name: "predictor_feedback_unmatched_total",
      help: "Feedback for a prediction id that is unknown (never seen, already scored, evicted) or expired",
      labelNames: ["reason"] as const,
      registers,
    }),
    modelInfo: new Gauge({
      name: "predictor_model_info",
      help: "1 for the loaded model; labels identify the artifact",
      labelNames: ["artifact_sha256", "features", "algorithm"] as const,
      registers,
    }),
    ready: new Gauge({
      name: "predictor_ready",
      help: "1 while the predictor takes traffic: model loaded and not shutting down",
      registers,
    }),
    featurePsi: featureGauge(
      "predictor_feature_psi",
      "Population stability index of each feature over the recent-rows window against training",
      "psi",
    ),
    psiWindowRows: new Gauge({
      name: "predictor_psi_window_rows",
      help: "Rows in the PSI window (PSI over few rows is noisy)",
      registers,
      collect() {
        this.set(drift?.rows ?? 0);
      },
    }),
    shadowSent: new Counter({
      name: "predictor_shadow_sent_total",
      help: "Requests taken off the mirror queue and sent to the shadow (retries not counted again)",
      registers,
    }),
    shadowDropped: new Counter({
      name: "predictor_shadow_dropped_total",
      help: "Requests not mirrored because the mirror queue was full",
      registers,
    }),
    shadowSkipped: new Counter({
      name: "predictor_shadow_skipped_total",
      help: "Requests not mirrored because the shadow was found unreachable (none running) a moment ago",
      registers,
    }),
    shadowErrors: new Counter({
      name: "predictor_shadow_errors_total",
      help: "Mirror calls that failed after retries, by reason (timeout, network, unreachable, status, rejected, invalid_response)",
      labelNames: ["reason"] as const,
      registers,
    }),
    shadowCompared: new Counter({
      name: "predictor_shadow_compared_total",
      help: "Predictions compared with the shadow's answer, by the shadow's version",
      labelNames: ["shadow_version"] as const,
      registers,
    }),
    shadowSignAgreements: new Counter({
      name: "predictor_shadow_sign_agreements_total",
      help: "Compared predictions where the shadow called the same sign, by the shadow's version",
      labelNames: ["shadow_version"] as const,
      registers,
    }),
    shadowAbsDiff: new Histogram({
      name: "predictor_shadow_abs_diff",
      help: "Absolute difference between this predictor's and the shadow's prediction, by the shadow's version",
      labelNames: ["shadow_version"] as const,
      buckets: SHADOW_DIFF_BUCKETS,
      registers,
    }),
    shadowQueueDepth: new Gauge({
      name: "predictor_shadow_queue_depth",
      help: "Mirror requests waiting to be sent",
      registers,
    }),
    chaosInjected: new Counter({
      name: "predictor_chaos_injected_total",
      help: "Chaos injected into /v1 requests, by kind (latency, error)",
      labelNames: ["kind"] as const,
      registers,
    }),

    /** One answered request: its latency and count, by route and status code. */
    observeResponse(route: string, status: number, seconds: number): void {
      responses.record(route, status, seconds);
    },

    /**
     * `count` predicted rows, as one update: the predictions counter, each prediction's
     * confidence, and the newest bar they were computed from (NaN: none).
     */
    rowsPredicted(predictions: ArrayLike<number>, count: number, newestBarTs: number): void {
      metrics.predictions.inc(count);
      if (confidenceOf) {
        for (let i = 0; i < count; i++) confidence.observe(confidenceOf(predictions[i] as number));
      }
      if (newestBarTs > newestBarMs || Number.isNaN(newestBarMs)) newestBarMs = newestBarTs;
    },

    /** One matched feedback: the directional hit and whether the interval held the realized return. */
    feedbackScored(prediction: number, realized: number, hit: boolean): void {
      metrics.feedback.inc();
      if (hit) metrics.feedbackHits.inc();
      if (realized >= prediction + interval.lower && realized <= prediction + interval.upper) {
        metrics.feedbackInInterval.inc();
      }
    },

    /** Records the loaded model and the window PSI is read from. */
    modelLoaded(model: ServedModel, window: DriftWindow): void {
      drift = window;
      interval = model.artifact.interval;
      confidenceOf = signConfidence(model.artifact.interval);
      metrics.intervalLevel.set(model.artifact.interval.level);
      metrics.modelInfo.set(
        {
          artifact_sha256: model.sha256,
          features: model.features.join(","),
          algorithm: model.artifact.algorithm.type,
        },
        1,
      );
    },
  };
  return metrics;
}

export type Metrics = ReturnType<typeof createMetrics>;

/**
 * The PromQL the operator's rollout analysis runs against the predictor's metrics, kept beside the
 * metric names (metrics.ts) so the two cannot drift apart: a test builds the predictor's registry and
 * checks that every metric named here is exported.
 */

export const ANALYSIS_METRICS = {
  feedback: "predictor_feedback_total",
  feedbackHits: "predictor_feedback_hits_total",
  requestDurationBucket: "predictor_http_request_duration_seconds_bucket",
  requests: "predictor_http_requests_total",
  errors: "predictor_http_errors_total",
  featurePsi: "predictor_feature_psi",
  shadowCompared: "predictor_shadow_compared_total",
  shadowSignAgreements: "predictor_shadow_sign_agreements_total",
  shadowAbsDiffSum: "predictor_shadow_abs_diff_sum",
  strategyOutcomes: "predictor_strategy_outcomes_total",
  strategyReturn: "predictor_strategy_return_total",
} as const;

/**
 * One series set: a model's pods of one version on one track, in its namespace (the label
 * Prometheus' Kubernetes service discovery and PodMonitors add to every scraped series).
 */
export interface SeriesSelector {
  namespace: string;
  model: string;
  version: string;
  track: string;
}

/** A PromQL label value in double quotes: backslash and quote escaped (names are DNS labels anyway). */
const quoted = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

function matchers(s: SeriesSelector, extra = ""): string {
  return `{namespace=${quoted(s.namespace)},model=${quoted(s.model)},version=${quoted(s.version)},track=${quoted(s.track)}${extra}}`;
}

/**
 * A shadow's comparisons are counted by the pods that mirror to it (stable), labelled with the
 * shadow's version: whichever pods mirrored, the series about this candidate are these.
 */
function mirroredTo(s: SeriesSelector): string {
  return `{namespace=${quoted(s.namespace)},model=${quoted(s.model)},shadow_version=${quoted(s.version)}}`;
}

/** Prediction routes only: health probes and /metrics scrapes would dilute latency and errors. */
const PREDICT_ROUTES = ',route=~"/v1/predict.*|/v2/models/.*/infer"';

/**
 * Counts over the window (increase, not rate), so the analysis can hold each check to a minimum
 * number of samples. Each query returns one sample, or nothing when the series do not exist yet.
 */
export const analysisQueries = {
  feedback: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.feedback}${matchers(s)}[${window}]))`,
  feedbackHits: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.feedbackHits}${matchers(s)}[${window}]))`,
  requests: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.requests}${matchers(s, PREDICT_ROUTES)}[${window}]))`,
  errors: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.errors}${matchers(s, PREDICT_ROUTES)}[${window}]))`,
  latencyP95Seconds: (s: SeriesSelector, window: string) =>
    `histogram_quantile(0.95, sum by (le) (rate(${ANALYSIS_METRICS.requestDurationBucket}${matchers(s, PREDICT_ROUTES)}[${window}])))`,
  psiMax: (s: SeriesSelector) => `max(${ANALYSIS_METRICS.featurePsi}${matchers(s)})`,
  /** Predictions of stable's compared with the shadow's answers to the same requests. */
  shadowCompared: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.shadowCompared}${mirroredTo(s)}[${window}]))`,
  shadowSignAgreements: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.shadowSignAgreements}${mirroredTo(s)}[${window}]))`,
  /** Sum of |stable − shadow| over the compared predictions: divided by shadowCompared, the mean. */
  shadowAbsDiffSum: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.shadowAbsDiffSum}${mirroredTo(s)}[${window}]))`,
  strategyOutcomes: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.strategyOutcomes}${matchers(s)}[${window}]))`,
  // Gains and losses are two counters by sign (a counter never decreases): pnl.ts.
  strategyGains: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.strategyReturn}${matchers(s, ',sign="positive"')}[${window}]))`,
  strategyLosses: (s: SeriesSelector, window: string) =>
    `sum(increase(${ANALYSIS_METRICS.strategyReturn}${matchers(s, ',sign="negative"')}[${window}]))`,
} as const;

export type AnalysisQuery = keyof typeof analysisQueries;

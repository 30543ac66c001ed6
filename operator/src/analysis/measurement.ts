import type { SeriesSelector } from "../../../predictor/src/serve/analysis-queries.ts";
import type { CHECK_NAMES } from "../api/tradingmodel.ts";

export type CheckName = (typeof CHECK_NAMES)[number];

/**
 * What the Prometheus provider observed for one rollout measurement, before any judgement. A value
 * the provider could not get carries the reason instead (Prometheus down, slow, or answering
 * garbage), so the judgement can tell "no data yet" from "could not ask".
 */
export type Reading = { value: number } | { error: string } | { absent: true };

export interface TrackReadings {
  feedback: Reading;
  feedbackHits: Reading;
  requests: Reading;
  errors: Reading;
  latencyP95Seconds: Reading;
  psiMax: Reading;
  /** A shadow's agreement with the stable pods that mirror to it (absent for other tracks). */
  shadowCompared: Reading;
  shadowSignAgreements: Reading;
  shadowAbsDiffSum: Reading;
  /** Feedback outcomes scored as strategy trades, and the sums of their gains and losses (fractions). */
  strategyOutcomes: Reading;
  strategyGains: Reading;
  strategyLosses: Reading;
}

export type ReadingName = keyof TrackReadings;

export interface Measurement {
  /** The candidate version this measurement is about. */
  version: number;
  measuredAt: string;
  window: string;
  /** The readings the request's checks judge from (`readingsFor`); the provider takes no other. */
  candidate: Partial<TrackReadings>;
  /** Stable's readings over the same window, for checks that compare (accuracyVsStable). */
  stable?: Partial<TrackReadings>;
}

/** What the shell should measure this reconcile; computed by the pure side from the stored status. */
export interface MeasurementRequest {
  version: number;
  window: string;
  /** The checks judged on this measurement: each query costs Prometheus, so only theirs are sent. */
  checks: readonly CheckName[];
  candidate: SeriesSelector;
  stable?: SeriesSelector;
}

import type { HoldoutMetrics, TradingModelStatus } from "./api/types.ts";

/*
 * The numbers `kubectl get` prints, as a person reads them. Status keeps every number in full
 * precision; printer columns can only print a field as stored, so the registry and the status
 * builder also write these strings under `status.display`, which the columns read.
 */

const SIGNIFICANT_DIGITS = 4;

/** `0.5575126768081131` => `0.5575`, `0.027091379344575` => `0.02709`, `12.5` => `12.5`. */
export function readable(value: number): string {
  return String(Number(value.toPrecision(SIGNIFICANT_DIGITS)));
}

/** What `kubectl get mv` prints for a version's holdout metrics. */
export function versionDisplay(metrics: HoldoutMetrics) {
  return {
    directionalAccuracy: readable(metrics.directionalAccuracy),
    r2: readable(metrics.r2),
    ...(metrics.strategy ? { sharpe: readable(metrics.strategy.sharpe) } : {}),
  };
}

/** What `kubectl get tm` prints for the latest live measurement. */
export function liveDisplay(metrics: NonNullable<TradingModelStatus["metrics"]>) {
  return {
    ...(metrics.accuracy === undefined ? {} : { accuracy: readable(metrics.accuracy) }),
    ...(metrics.latencyP95Ms === undefined ? {} : { latencyP95Ms: readable(metrics.latencyP95Ms) }),
    ...(metrics.errorRate === undefined ? {} : { errorRate: readable(metrics.errorRate) }),
  };
}

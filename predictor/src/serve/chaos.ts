import type { ServeConfig } from "./config.ts";

export interface ChaosAction {
  delayMs: number;
  fail: boolean;
}

/**
 * What chaos does to one /v1 request: add CHAOS_LATENCY_MS, and fail it with a 503 with
 * probability CHAOS_ERROR_FRACTION. Both 0 by default, so chaos is off.
 */
export function chaosFor(
  config: Pick<ServeConfig, "chaosLatencyMs" | "chaosErrorFraction">,
  random: () => number,
): ChaosAction {
  return {
    delayMs: config.chaosLatencyMs,
    fail: config.chaosErrorFraction > 0 && random() < config.chaosErrorFraction,
  };
}

// Which apiserver failures the agent and the node services retry, and how often.
import { type RetryPolicy, retrying } from "../../../predictor/src/backoff.ts";

export const API_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 5_000 };

/** Restarting a stopped list+watch: for as long as it keeps stopping. */
export const WATCH_RESTART = { baseMs: 500, maxMs: 10_000 };

/** HTTP status of an ApiException or a watch error, if any. */
export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === "number") return e.code;
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

/**
 * Network errors, timeouts, 429 and 5xx are worth another try; other 4xx are answers. Status 0 is
 * client-node's code for a request that got no HTTP answer at all: a network error, as the
 * operator's retry predicate counts it too.
 */
export function retryable(err: unknown): boolean {
  const code = statusCode(err);
  return code === undefined || code === 0 || code === 429 || code >= 500;
}

export function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = API_RETRY): Promise<T> {
  return retrying(fn, { policy, retryable });
}

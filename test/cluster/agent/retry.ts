// Bounded retries with exponential back-off and full jitter for calls to the apiserver.
import { setTimeout as sleep } from "node:timers/promises";

export type RetryPolicy = { attempts: number; baseMs: number; maxMs: number };

export const API_RETRY: RetryPolicy = { attempts: 5, baseMs: 200, maxMs: 5_000 };

/** HTTP status of an ApiException or a watch error, if any. */
export function statusCode(err: unknown): number | undefined {
  const e = err as { code?: unknown; statusCode?: unknown };
  if (typeof e?.code === "number") return e.code;
  if (typeof e?.statusCode === "number") return e.statusCode;
  return undefined;
}

/** Network errors, timeouts, 429 and 5xx are worth another try; other 4xx are answers. */
export function retryable(err: unknown): boolean {
  const code = statusCode(err);
  return code === undefined || code === 429 || code >= 500;
}

export function backoffMs(attempt: number, policy: RetryPolicy, random = Math.random): number {
  return Math.round(random() * Math.min(policy.maxMs, policy.baseMs * 2 ** attempt));
}

export async function withRetry<T>(fn: () => Promise<T>, policy: RetryPolicy = API_RETRY): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (err) {
      if (attempt + 1 >= policy.attempts || !retryable(err)) throw err;
      await sleep(backoffMs(attempt, policy));
    }
  }
}

import { backoffDelay, type RetryPolicy } from "../data/source.ts";

export interface RetryHooks {
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call`, retrying while `retryable(error)` says so and `policy.retries` remain, after the
 * data sources' exponential backoff with jitter; rethrows the last error.
 */
export async function withRetries<T>(
  policy: RetryPolicy,
  retryable: (error: unknown) => boolean,
  call: () => Promise<T>,
  { random = Math.random, sleep = defaultSleep }: RetryHooks = {},
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.retries || !retryable(err)) throw err;
      await sleep(backoffDelay(policy, attempt + 1, random));
    }
  }
}

/** How a failed call is retried: `retries` more attempts after exponential backoff with full jitter. */
export interface RetryPolicy {
  retries: number;
  baseDelayMs: number;
  maxDelayMs: number;
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Delay before retry number `attempt` (0 first): uniform in [0, min(max, base * 2^attempt)). */
export function backoffDelay(policy: RetryPolicy, attempt: number): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return (policy.random ?? Math.random)() * cap;
}

/** Runs `call`, retrying while `retryable(error)` says so and retries remain; rethrows the last error. */
export async function withRetries<T>(
  policy: RetryPolicy,
  retryable: (error: unknown) => boolean,
  call: () => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt >= policy.retries || !retryable(err)) throw err;
      await (policy.sleep ?? defaultSleep)(backoffDelay(policy, attempt));
    }
  }
}

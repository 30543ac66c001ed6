/** Exponential backoff with jitter, shared by apiserver calls, the work queue and informer restarts. */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The delay before retry `attempt` (0 for the first retry): base·2^attempt capped at max, of which
 * the upper half is random ("equal jitter"), so retrying clients spread out but never retry at once.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(attempt, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in total, the first one included. */
  attempts: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether an error is worth another attempt (timeouts, 429, 5xx); others are thrown at once. */
  retryable: (err: unknown) => boolean;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Runs `call` until it succeeds, fails with a non-retryable error, or runs out of attempts. */
export async function retrying<T>(call: () => Promise<T>, options: RetryOptions): Promise<T> {
  const sleep = options.sleep ?? defaultSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      if (attempt + 1 >= options.policy.attempts || !options.retryable(err)) throw err;
      const delay = backoffDelay(options.policy, attempt, options.random);
      options.onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

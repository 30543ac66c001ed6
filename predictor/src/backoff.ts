/**
 * Exponential backoff with jitter and a bounded retry loop, for every network call in the project:
 * the trainer's data download, the predictor's shadow mirror, the operator's apiserver calls, work
 * queue and informer restarts, and the local cluster's node agent and services.
 */
export interface BackoffPolicy {
  baseMs: number;
  maxMs: number;
}

/**
 * The delay before retry `retry` (0 for the first retry): base·2^retry capped at max, of which the
 * upper half is random ("equal jitter"), so retrying clients spread out yet none retries at once.
 */
export function backoffDelay(
  policy: BackoffPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retry, 30));
  return ceiling / 2 + random() * (ceiling / 2);
}

export interface RetryPolicy extends BackoffPolicy {
  /** Attempts in total, the first one included. */
  attempts: number;
  /** When set, each attempt gets an AbortSignal that fires after this long. */
  timeoutMs?: number;
}

export interface RetryOptions {
  policy: RetryPolicy;
  /** Whether an error is worth another attempt (timeouts, 429, 5xx); others are thrown at once. */
  retryable: (err: unknown) => boolean;
  /** Called before sleeping; `attempt` is the number of attempts that failed so far. */
  onRetry?: (err: unknown, attempt: number, delayMs: number) => void;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

const defaultSleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `call` until it succeeds, fails with an error that is not retryable, or runs out of
 * attempts; rethrows the last error. `signal` is the attempt's timeout when the policy sets one.
 */
export async function retrying<T>(
  call: (signal: AbortSignal | undefined) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  const { policy, retryable, onRetry, sleep = defaultSleep, random } = options;
  for (let attempt = 0; ; attempt++) {
    try {
      return await call(policy.timeoutMs === undefined ? undefined : AbortSignal.timeout(policy.timeoutMs));
    } catch (err) {
      if (attempt + 1 >= policy.attempts || !retryable(err)) throw err;
      const delay = backoffDelay(policy, attempt, random);
      onRetry?.(err, attempt + 1, delay);
      await sleep(delay);
    }
  }
}

import { type BackoffPolicy, backoffDelay } from "../../../predictor/src/backoff.ts";

/**
 * A work queue of object keys (`namespace/name`) with the guarantees of client-go's: a key waiting
 * is queued once however many events name it; a key being processed is never handed to a second
 * worker, and is queued again after `done` if events arrived meanwhile; failures are retried with
 * per-key exponential backoff; `addAfter` schedules time-based work.
 */
export class WorkQueue {
  private readonly queue: string[] = [];
  /** Keys waiting to be processed (queued, or to be re-queued when their processing ends). */
  private readonly dirty = new Set<string>();
  private readonly processing = new Set<string>();
  private readonly delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  private readonly failures = new Map<string, number>();
  private readonly waiters: ((key: string | undefined) => void)[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private shuttingDown = false;
  private readonly retry: BackoffPolicy;
  private readonly random: () => number;

  constructor(retry: BackoffPolicy, random: () => number = Math.random) {
    this.retry = retry;
    this.random = random;
  }

  add(key: string): void {
    if (this.shuttingDown || this.dirty.has(key)) return;
    this.dirty.add(key);
    if (this.processing.has(key)) return;
    const waiter = this.waiters.shift();
    if (waiter) {
      this.dirty.delete(key);
      this.processing.add(key);
      waiter(key);
    } else {
      this.queue.push(key);
    }
  }

  /** Adds the key after `ms`; an earlier pending time for the same key wins. */
  addAfter(key: string, ms: number): void {
    if (this.shuttingDown) return;
    if (ms <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + ms;
    const pending = this.delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.delayed.delete(key);
      this.add(key);
    }, ms);
    timer.unref();
    this.delayed.set(key, { at, timer });
  }

  /** Re-adds a key whose processing failed, after a delay that doubles with each failure in a row. */
  addRateLimited(key: string): number {
    const failures = this.failures.get(key) ?? 0;
    this.failures.set(key, failures + 1);
    const delay = backoffDelay(this.retry, failures, this.random);
    this.addAfter(key, delay);
    return delay;
  }

  /** Clears a key's failure count after it was processed successfully. */
  forget(key: string): void {
    this.failures.delete(key);
  }

  failureCount(key: string): number {
    return this.failures.get(key) ?? 0;
  }

  /** The next key to process; undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    if (this.shuttingDown) return Promise.resolve(undefined);
    const key = this.queue.shift();
    if (key !== undefined) {
      this.dirty.delete(key);
      this.processing.add(key);
      return Promise.resolve(key);
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Ends the processing of a key; queues it again if it was added meanwhile. */
  done(key: string): void {
    this.processing.delete(key);
    if (this.dirty.has(key)) {
      this.dirty.delete(key);
      this.add(key);
    }
    if (this.processing.size === 0) for (const idle of this.idleWaiters.splice(0)) idle();
  }

  /** Keys waiting for a worker (not the delayed ones, not those in process). */
  get depth(): number {
    return this.queue.length;
  }

  get inFlight(): number {
    return this.processing.size;
  }

  /** Stops handing out keys and drops the waiting ones; in-flight keys may still call `done`. */
  shutDown(): void {
    this.shuttingDown = true;
    this.queue.length = 0;
    this.dirty.clear();
    for (const { timer } of this.delayed.values()) clearTimeout(timer);
    this.delayed.clear();
    for (const waiter of this.waiters.splice(0)) waiter(undefined);
  }

  /** Resolves once no key is being processed. */
  idle(): Promise<void> {
    if (this.processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

import type { Logger } from "pino";
import type { BackoffPolicy } from "../../../predictor/src/backoff.ts";
import type { OperatorMetrics } from "./metrics.ts";
import type { ReconcileResult } from "./reconciler.ts";
import { WorkQueue } from "./work-queue.ts";

export interface ControllerSettings {
  workers: number;
  /** Every model is reconciled at least this often, events or not. */
  resyncPeriodMs: number;
  /** Backoff of a key whose reconcile failed. */
  retry: BackoffPolicy;
}

export interface ControllerDeps {
  reconcile: (key: string) => Promise<ReconcileResult>;
  /** Keys of every known TradingModel (the cache), enqueued when leading starts and at each resync. */
  allKeys: () => string[];
  metrics: OperatorMetrics;
  log: Logger;
}

/**
 * Runs reconciles off the work queue with a bounded number of workers, while this replica leads.
 * Events enqueue keys; a failed reconcile goes back with per-key backoff; a requeue-after from the
 * decision schedules the next look (schedules, polls) since watches bring nothing at that time.
 */
export class Controller {
  private readonly settings: ControllerSettings;
  private readonly deps: ControllerDeps;
  private queue?: WorkQueue;
  private workers: Promise<void>[] = [];
  private resync?: NodeJS.Timeout;

  constructor(settings: ControllerSettings, deps: ControllerDeps) {
    this.settings = settings;
    this.deps = deps;
    deps.metrics.observeQueue(() => ({ depth: this.queue?.depth ?? 0, inFlight: this.queue?.inFlight ?? 0 }));
  }

  get running(): boolean {
    return this.queue !== undefined;
  }

  /** From an informer: some object of this model changed. Ignored while not leading. */
  enqueue(key: string): void {
    this.queue?.add(key);
  }

  start(): void {
    if (this.queue) return;
    const queue = new WorkQueue(this.settings.retry);
    this.queue = queue;
    this.workers = Array.from({ length: this.settings.workers }, () => this.work(queue));
    const resync = () => {
      for (const key of this.deps.allKeys()) queue.add(key);
    };
    resync();
    this.resync = setInterval(resync, this.settings.resyncPeriodMs);
    this.resync.unref();
    this.deps.log.info({ workers: this.settings.workers }, "workers started");
  }

  /** Takes no new work and waits for the reconciles in flight to finish. */
  async stop(): Promise<void> {
    const queue = this.queue;
    if (!queue) return;
    this.queue = undefined;
    clearInterval(this.resync);
    queue.shutDown();
    await Promise.all(this.workers);
    await queue.idle();
    this.workers = [];
    this.deps.log.info("workers stopped");
  }

  private async work(queue: WorkQueue): Promise<void> {
    const { metrics, log } = this.deps;
    for (;;) {
      const key = await queue.get();
      if (key === undefined) return;
      const stopTimer = metrics.reconcileDuration.startTimer();
      try {
        const result = await this.deps.reconcile(key);
        queue.forget(key);
        if (result.requeueAfterMs !== undefined) queue.addAfter(key, result.requeueAfterMs);
        metrics.reconciles.inc({ result: result.requeueAfterMs === undefined ? "success" : "requeue" });
        if (result.statusWritten) metrics.statusWrites.inc();
        metrics.events.inc(result.eventsEmitted);
      } catch (err) {
        const delay = queue.addRateLimited(key);
        metrics.reconciles.inc({ result: "error" });
        metrics.errors.inc({ source: "reconcile" });
        log.error(
          { model: key, err: err instanceof Error ? err.message : String(err), retryInMs: Math.round(delay) },
          "reconcile failed; retrying with backoff",
        );
      } finally {
        stopTimer();
        queue.done(key);
      }
    }
  }
}

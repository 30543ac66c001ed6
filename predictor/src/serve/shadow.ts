import type { Logger } from "pino";
import { type RetryPolicy, retrying } from "../backoff.ts";
import type { Metrics } from "./metrics.ts";

export interface ShadowOptions {
  url: string;
  queue: number;
  queueBytes: number;
  concurrency: number;
  timeoutMs: number;
  /** Attempts after the first. */
  retries: number;
  metrics: Metrics;
  log: Logger;
  fetch?: typeof fetch;
}

interface MirrorJob {
  path: string;
  body: unknown;
  bytes: number;
  predictions: ArrayLike<number>;
}

type ShadowFailure = "timeout" | "network" | "status" | "rejected" | "invalid_response";

class MirrorError extends Error {
  readonly reason: ShadowFailure;
  constructor(reason: ShadowFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * The shadow's predictions from its answer to the same request: `prediction` for one row,
 * `results[i].prediction` for a batch, the `prediction` output tensor for an Open Inference
 * Protocol request. Undefined when the answer does not have that shape.
 */
export function shadowPredictions(answer: unknown, rows: number): number[] | undefined {
  if (typeof answer !== "object" || answer === null) return undefined;
  const a = answer as { prediction?: unknown; results?: unknown; outputs?: unknown };
  let values: unknown[];
  if (Array.isArray(a.outputs)) {
    const tensor = a.outputs.find((o: unknown) => (o as { name?: unknown } | null)?.name === "prediction");
    values = Array.isArray(tensor?.data) ? tensor.data : [];
  } else if (Array.isArray(a.results)) {
    values = a.results.map((r: unknown) => (r as { prediction?: unknown } | null)?.prediction);
  } else values = [a.prediction];
  if (values.length !== rows || !values.every((v) => typeof v === "number" && Number.isFinite(v))) {
    return undefined;
  }
  return values as number[];
}

/**
 * Mirrors prediction requests to a shadow predictor and compares its answers with ours. Requests
 * wait in a bounded queue (by count and by bytes; overflow is dropped and counted) and at most
 * `concurrency` are in flight, so a slow or dead shadow costs the primary nothing but the queue.
 */
export class ShadowMirror {
  readonly #options: ShadowOptions;
  readonly #policy: RetryPolicy;
  readonly #fetch: typeof fetch;
  readonly #queue: MirrorJob[] = [];
  #queuedBytes = 0;
  #inFlight = 0;
  #pumpScheduled = false;
  #idle: (() => void)[] = [];

  constructor(options: ShadowOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#policy = { timeoutMs: options.timeoutMs, attempts: options.retries + 1, baseMs: 25, maxMs: 500 };
  }

  /**
   * Queues a copy of a served request; never throws and never waits. The copy is serialized and
   * sent on a later turn of the event loop, after the primary's answer has been written.
   */
  mirror(path: string, body: unknown, bytes: number, predictions: ArrayLike<number>): void {
    const { metrics, queue, queueBytes, concurrency } = this.#options;
    // Copies the next pump starts at once are not waiting: `queue` bounds the ones that will.
    const startable = Math.max(0, concurrency - this.#inFlight);
    if (this.#queue.length >= queue + startable || this.#queuedBytes + bytes > queueBytes) {
      metrics.shadowDropped.inc();
      return;
    }
    this.#queue.push({ path, body, bytes, predictions });
    this.#queuedBytes += bytes;
    metrics.shadowQueueDepth.set(this.#queue.length);
    if (!this.#pumpScheduled) {
      this.#pumpScheduled = true;
      setImmediate(() => {
        this.#pumpScheduled = false;
        this.#pump();
      });
    }
  }

  /** Resolves when nothing is queued or in flight. */
  idle(): Promise<void> {
    if (this.#queue.length === 0 && this.#inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#inFlight < this.#options.concurrency && this.#queue.length > 0) {
      const job = this.#queue.shift() as MirrorJob;
      this.#queuedBytes -= job.bytes;
      this.#options.metrics.shadowQueueDepth.set(this.#queue.length);
      this.#inFlight++;
      void this.#send(job).finally(() => {
        this.#inFlight--;
        this.#pump();
        if (this.#queue.length === 0 && this.#inFlight === 0) {
          for (const resolve of this.#idle.splice(0)) resolve();
        }
      });
    }
  }

  async #send(job: MirrorJob): Promise<void> {
    const { metrics, log } = this.#options;
    metrics.shadowSent.inc();
    try {
      const answer = await retrying((signal) => this.#call(job, signal), {
        policy: this.#policy,
        retryable: (err) =>
          err instanceof MirrorError && (err.reason === "network" || err.reason === "status"),
      });
      const theirs = shadowPredictions(answer, job.predictions.length);
      if (!theirs) throw new MirrorError("invalid_response", "shadow answer has no prediction for each row");
      let agreements = 0;
      for (let i = 0; i < theirs.length; i++) {
        const ours = job.predictions[i] as number;
        const shadow = theirs[i] as number;
        if (Math.sign(ours) === Math.sign(shadow)) agreements++;
        metrics.shadowAbsDiff.observe(Math.abs(ours - shadow));
      }
      metrics.shadowCompared.inc(theirs.length);
      metrics.shadowSignAgreements.inc(agreements);
    } catch (err) {
      const reason = err instanceof MirrorError ? err.reason : "network";
      metrics.shadowErrors.inc({ reason });
      log.debug({ err, path: job.path }, "shadow mirror failed");
    }
  }

  async #call(job: MirrorJob, signal: AbortSignal | undefined): Promise<unknown> {
    const { url } = this.#options;
    let response: Response;
    try {
      response = await this.#fetch(url + job.path, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(job.body),
        signal,
      });
    } catch (err) {
      const timedOut = (err as Error).name === "TimeoutError";
      throw new MirrorError(timedOut ? "timeout" : "network", (err as Error).message);
    }
    let text: string;
    try {
      text = await response.text();
    } catch (err) {
      throw new MirrorError(
        (err as Error).name === "TimeoutError" ? "timeout" : "network",
        (err as Error).message,
      );
    }
    if (response.status >= 500) throw new MirrorError("status", `shadow answered ${response.status}`);
    if (response.status >= 400)
      throw new MirrorError("rejected", `shadow answered ${response.status}: ${text}`);
    try {
      return JSON.parse(text);
    } catch {
      throw new MirrorError("invalid_response", "shadow answer is not JSON");
    }
  }
}

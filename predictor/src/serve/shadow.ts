import type { Logger } from "pino";
import { type BackoffPolicy, backoffDelay, type RetryPolicy, retrying } from "../backoff.ts";
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
  now?: () => number;
}

/**
 * How long mirroring rests after the shadow was found unreachable, growing while it stays so. The
 * stable pods always mirror to the model's shadow Service; with no shadow running it has no
 * endpoints and refuses at once, so copies are skipped for a while instead of tried one by one.
 */
export const UNREACHABLE_BACKOFF: BackoffPolicy = { baseMs: 500, maxMs: 5_000 };

/** Connection errors that mean "no shadow there" (no endpoints, no such Service), not a blip. */
const UNREACHABLE_CODES = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "EHOSTUNREACH", "ENETUNREACH"]);

function unreachable(err: unknown): boolean {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; depth++) {
    if (typeof e.code === "string" && UNREACHABLE_CODES.has(e.code)) return true;
    e = e.cause as typeof e;
  }
  return false;
}

interface MirrorJob {
  path: string;
  body: unknown;
  bytes: number;
  predictions: ArrayLike<number>;
}

type ShadowFailure = "timeout" | "network" | "unreachable" | "status" | "rejected" | "invalid_response";

class MirrorError extends Error {
  readonly reason: ShadowFailure;
  constructor(reason: ShadowFailure, message: string) {
    super(message);
    this.reason = reason;
  }
}

/**
 * The shadow's version and predictions from its answer to the same request: `prediction` for one
 * row, `results[i].prediction` for a batch, the `prediction` output tensor for an Open Inference
 * Protocol request; the version from `modelVersion` (/v1) or `model_version` (OIP). Undefined when
 * the answer does not have that shape.
 */
export function shadowAnswer(
  answer: unknown,
  rows: number,
): { version: string; predictions: number[] } | undefined {
  if (typeof answer !== "object" || answer === null) return undefined;
  const a = answer as {
    prediction?: unknown;
    results?: unknown;
    outputs?: unknown;
    modelVersion?: unknown;
    model_version?: unknown;
  };
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
  const version = typeof a.modelVersion === "string" ? a.modelVersion : a.model_version;
  return {
    version: typeof version === "string" && version !== "" ? version : "unknown",
    predictions: values as number[],
  };
}

/**
 * Mirrors prediction requests to a shadow predictor and compares its answers with ours. Requests
 * wait in a bounded queue (by count and by bytes; overflow is dropped and counted) and at most
 * `concurrency` are in flight, so a slow or dead shadow costs the primary nothing but the queue.
 * A shadow found unreachable is not tried again for a backoff that grows while it stays so; the
 * copies meanwhile are skipped (counted), which costs a served request one comparison.
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
  readonly #now: () => number;
  /** Until when copies are skipped, and how many unreachable answers in a row set it. */
  #restUntil = 0;
  #unreachableInARow = 0;

  constructor(options: ShadowOptions) {
    this.#options = options;
    this.#fetch = options.fetch ?? fetch;
    this.#now = options.now ?? Date.now;
    this.#policy = { timeoutMs: options.timeoutMs, attempts: options.retries + 1, baseMs: 25, maxMs: 500 };
  }

  /**
   * Queues a copy of a served request; never throws and never waits. The copy is serialized and
   * sent on a later turn of the event loop, after the primary's answer has been written.
   */
  mirror(path: string, body: unknown, bytes: number, predictions: ArrayLike<number>): void {
    const { metrics, queue, queueBytes, concurrency } = this.#options;
    if (this.#resting()) {
      metrics.shadowSkipped.inc();
      return;
    }
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

  #resting(): boolean {
    return this.#restUntil > this.#now();
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
    // Queued before the shadow was found unreachable: skipped like the copies after it.
    if (this.#resting()) {
      metrics.shadowSkipped.inc();
      return;
    }
    metrics.shadowSent.inc();
    try {
      const answer = await retrying((signal) => this.#call(job, signal), {
        policy: this.#policy,
        retryable: (err) =>
          err instanceof MirrorError && (err.reason === "network" || err.reason === "status"),
      });
      this.#unreachableInARow = 0;
      const theirs = shadowAnswer(answer, job.predictions.length);
      if (!theirs) throw new MirrorError("invalid_response", "shadow answer has no prediction for each row");
      const labels = { shadow_version: theirs.version };
      let agreements = 0;
      for (let i = 0; i < theirs.predictions.length; i++) {
        const ours = job.predictions[i] as number;
        const shadow = theirs.predictions[i] as number;
        if (Math.sign(ours) === Math.sign(shadow)) agreements++;
        metrics.shadowAbsDiff.observe(labels, Math.abs(ours - shadow));
      }
      metrics.shadowCompared.inc(labels, theirs.predictions.length);
      metrics.shadowSignAgreements.inc(labels, agreements);
    } catch (err) {
      const reason = err instanceof MirrorError ? err.reason : "network";
      if (reason === "unreachable") {
        this.#restUntil = this.#now() + backoffDelay(UNREACHABLE_BACKOFF, this.#unreachableInARow++);
      }
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
      throw new MirrorError(
        timedOut ? "timeout" : unreachable(err) ? "unreachable" : "network",
        (err as Error).message,
      );
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

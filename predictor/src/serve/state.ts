import type { Logger } from "pino";
import type { ArtifactFile } from "../artifact.ts";
import type { ServeConfig } from "./config.ts";
import { DriftWindow } from "./drift-window.ts";
import type { Metrics } from "./metrics.ts";
import { type ServedModel, servedModel } from "./model.ts";
import { StrategyPnl } from "./pnl.ts";
import { PredictionCache } from "./prediction-cache.ts";
import type { ShadowMirror } from "./shadow.ts";

/** What the routes share: the model once loaded, and the state kept across requests. */
export class ServeState {
  readonly config: ServeConfig;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly cache: PredictionCache;
  readonly pnl: StrategyPnl;
  readonly shadow: ShadowMirror | undefined;
  #model: ServedModel | undefined;
  #drift: DriftWindow | undefined;
  #draining = false;
  /** Reused by every request: handlers decode and predict synchronously, so one is never shared. */
  #values: Float64Array = new Float64Array(0);
  #predictions: Float64Array = new Float64Array(0);
  #row: Float64Array = new Float64Array(0);

  constructor(
    config: ServeConfig,
    metrics: Metrics,
    log: Logger,
    shadow: ShadowMirror | undefined,
    now?: () => number,
  ) {
    this.config = config;
    this.metrics = metrics;
    this.log = log;
    this.shadow = shadow;
    this.cache = new PredictionCache(config.feedbackCacheSize, config.feedbackTtlMs, now);
    this.pnl = new StrategyPnl(metrics.registry);
    metrics.ready.set(0);
  }

  /** Checks the artifact can be served and starts serving it. */
  load(file: ArtifactFile): ServedModel {
    const model = servedModel(file);
    this.#drift = new DriftWindow(model, this.config.psiWindow);
    this.#model = model;
    this.metrics.modelLoaded(model, this.#drift);
    this.pnl.use(file.artifact.strategy);
    this.#updateReady();
    return model;
  }

  get model(): ServedModel | undefined {
    return this.#model;
  }

  get drift(): DriftWindow | undefined {
    return this.#drift;
  }

  get draining(): boolean {
    return this.#draining;
  }

  get ready(): boolean {
    return this.#model !== undefined && !this.#draining;
  }

  /** From SIGTERM on: unready, so traffic moves elsewhere while in-flight requests finish. */
  startDraining(): void {
    this.#draining = true;
    this.#updateReady();
  }

  #updateReady(): void {
    this.metrics.ready.set(this.ready ? 1 : 0);
  }

  /** A scratch buffer of at least `length` feature values. */
  values(length: number): Float64Array {
    this.#values = atLeast(this.#values, length);
    return this.#values;
  }

  /** A scratch buffer for one row of `length` feature values. */
  row(length: number): Float64Array {
    if (this.#row.length !== length) this.#row = new Float64Array(length);
    return this.#row;
  }

  /** A scratch buffer of at least `length` predictions. */
  predictions(length: number): Float64Array {
    this.#predictions = atLeast(this.#predictions, length);
    return this.#predictions;
  }
}

function atLeast(buffer: Float64Array, length: number): Float64Array {
  return buffer.length >= length ? buffer : new Float64Array(Math.max(length, buffer.length * 2));
}

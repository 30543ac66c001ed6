import { isAscii } from "node:buffer";
import type { IncomingHttpHeaders, IncomingMessage, ServerResponse } from "node:http";
import type { Bar } from "../bars.ts";
import { BatchAnswerWriter, SingleAnswerWriter } from "./batch-answer.ts";
import { chaosFor } from "./chaos.ts";
import { describeValue, errorBody, fieldPath, invalidField, RequestError } from "./errors.ts";
import type { ServedModel } from "./model.ts";
import { answerInfer, OIP_INFER_ROUTE, OIP_INFER_VERSION_ROUTE, OipInferPaths } from "./oip.ts";
import { NON_FINITE_PREDICTION, predictRows, record } from "./predict-rows.ts";
import { decodeRow, rowPath } from "./rows.ts";
import type { ServeState } from "./state.ts";

/*
 * POST /v1/predict, /v1/predict/batch and the Open Inference Protocol's /infer (oip.ts) on
 * node:http directly, ahead of fastify, which serves every other route. These routes are the
 * predictor's traffic, and fastify's per-request machinery (hook promises, a child logger, reply
 * decoration) cost more than the prediction itself: about half of what a request took. Here one
 * function reads the body, decodes and predicts, writes the answer by hand and records the
 * metrics, with the same rules as the other routes: a 4xx naming the field for bad input, 503
 * until the model is loaded, chaos when asked.
 */

export const PREDICT_ROUTE = "/v1/predict";
export const BATCH_ROUTE = "/v1/predict/batch";

/** Why a /v1 request is refused before its body is read; shared with fastify's /v1 routes. */
export function admissionError(state: ServeState, headers: IncomingHttpHeaders): RequestError | undefined {
  if (!state.model) return new RequestError(503, "not_ready", "not ready: model not loaded yet");
  const encoding = headers["content-encoding"];
  if (encoding !== undefined && encoding !== "identity") {
    const message = `content-encoding ${JSON.stringify(encoding)} is not supported: send the body uncompressed`;
    return new RequestError(415, "unsupported_media_type", message, "content-encoding");
  }
  return undefined;
}

/** The chaos a /v1 request gets: a delay in ms (0 for none), or an error to answer with. */
export function chaosOutcome(
  state: ServeState,
  random: () => number,
): { delayMs: number; error?: RequestError } {
  const chaos = chaosFor(state.config, random);
  if (chaos.delayMs > 0) state.metrics.chaosInjected.inc({ kind: "latency" });
  if (!chaos.fail) return { delayMs: chaos.delayMs };
  state.metrics.chaosInjected.inc({ kind: "error" });
  return {
    delayMs: chaos.delayMs,
    error: new RequestError(503, "chaos", "chaos: injected error (CHAOS_ERROR_FRACTION)"),
  };
}

export function bodyTooLarge(limit: number): RequestError {
  return new RequestError(
    413,
    "body_too_large",
    `body is larger than ${limit} bytes (BODY_LIMIT_BYTES)`,
    "body",
  );
}

export function unsupportedMediaType(contentType: string | undefined): RequestError {
  return new RequestError(
    415,
    "unsupported_media_type",
    `content-type must be application/json, got ${JSON.stringify(contentType ?? "")}`,
    "content-type",
  );
}

function isJson(contentType: string | undefined): boolean {
  if (contentType === "application/json") return true;
  if (contentType === undefined) return false;
  const semicolon = contentType.indexOf(";");
  const type = (semicolon < 0 ? contentType : contentType.slice(0, semicolon)).trim().toLowerCase();
  return type === "application/json";
}

/** A /v1 body's rows, decoded and predicted: `batch` says whether errors name rows[i] or the body. */
function predictV1Rows(state: ServeState, model: ServedModel, rows: readonly unknown[], batch: boolean) {
  return predictRows(
    state,
    model,
    rows.length,
    (i, row) => decodeRow(rows[i], batch ? i : -1, model, row),
    (i) => invalidField(rowPath(batch ? i : -1) || "body", NON_FINITE_PREDICTION),
  );
}

/** The ts of the newest last bar of a body's decoded {bars} rows; NaN when it has none. */
function newestBarTs(rows: readonly unknown[]): number {
  let newest = Number.NaN;
  for (let i = 0; i < rows.length; i++) {
    const bars = (rows[i] as { bars?: Bar[] }).bars;
    if (bars === undefined) continue;
    const ts = (bars[bars.length - 1] as Bar).ts;
    if (!(ts <= newest)) newest = ts;
  }
  return newest;
}

/** The rows of a batch body `{"rows": [...]}`, held to BATCH_LIMIT. */
function batchRows(body: unknown, limit: number): unknown[] {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw invalidField("body", `must be an object {"rows": [...]}, got ${describeValue(body)}`);
  }
  for (const key in body) {
    if (key !== "rows")
      throw invalidField(fieldPath("", key), "is not a known field (a batch has only rows)");
  }
  const { rows } = body as { rows?: unknown };
  if (rows === undefined) throw invalidField("rows", "is required");
  if (!Array.isArray(rows))
    throw invalidField("rows", `must be an array of rows, got ${describeValue(rows)}`);
  if (rows.length === 0) throw invalidField("rows", "must have at least 1 row");
  if (rows.length > limit) {
    throw invalidField("rows", `has ${rows.length} rows; at most ${limit} are taken (BATCH_LIMIT)`);
  }
  return rows;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    if (text.trim() === "")
      throw new RequestError(400, "invalid_json", "body is empty; send a JSON object", "body");
    throw new RequestError(400, "invalid_json", "body is not valid JSON", "body");
  }
}

/**
 * The body as text: an ASCII body (the usual JSON) is copied byte for byte, skipping UTF-8 decoding.
 * A UTF-8 byte order mark before the JSON is skipped, as fastify's JSON parser does on the other
 * routes (RFC 8259 lets a parser ignore it; some Windows tools write one).
 */
function bodyText(chunks: Buffer[], bytes: number): string {
  const whole = chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks, bytes);
  const body = whole[0] === 0xef && whole[1] === 0xbb && whole[2] === 0xbf ? whole.subarray(3) : whole;
  return isAscii(body) ? body.toString("latin1") : body.toString();
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? "";
  const query = url.indexOf("?");
  return query < 0 ? url : url.slice(0, query);
}

function isOip(route: string): boolean {
  return route === OIP_INFER_ROUTE || route === OIP_INFER_VERSION_ROUTE;
}

export class PredictEndpoint {
  readonly #state: ServeState;
  readonly #random: () => number;
  readonly #batchAnswer: BatchAnswerWriter;
  readonly #singleAnswer: SingleAnswerWriter;
  readonly #oipPaths = new OipInferPaths();

  constructor(state: ServeState, random: () => number) {
    this.#state = state;
    this.#random = random;
    const { modelName, modelVersion, modelTrack } = state.config;
    // The fields that say which model answered: after the result in a single answer, first in a batch.
    const identity = { model: modelName, modelVersion, track: modelTrack };
    this.#batchAnswer = new BatchAnswerWriter(identity);
    this.#singleAnswer = new SingleAnswerWriter(identity);
  }

  /** The route a request is for when this endpoint serves it; undefined leaves it to fastify. */
  routeOf(req: IncomingMessage): string | undefined {
    if (req.method !== "POST") return undefined;
    const path = pathOf(req);
    return path === PREDICT_ROUTE || path === BATCH_ROUTE ? path : this.#oipPaths.routeOf(path);
  }

  /** Answers a request for `route` (from routeOf). */
  handle(req: IncomingMessage, res: ServerResponse, route: string): void {
    const startedAt = performance.now();
    const state = this.#state;
    const refused =
      admissionError(state, req.headers) ??
      this.#mediaTypeError(req.headers, route) ??
      (isOip(route) ? this.#oipPaths.refusal(state, pathOf(req), req.headers) : undefined);
    if (refused) {
      this.#fail(req, res, route, startedAt, refused);
      return;
    }
    if (!state.config.chaosLatencyMs && !state.config.chaosErrorFraction) {
      this.#readBody(req, res, route, startedAt);
      return;
    }
    const { delayMs, error } = chaosOutcome(state, this.#random);
    const proceed = () => {
      if (error) this.#fail(req, res, route, startedAt, error);
      else this.#readBody(req, res, route, startedAt);
    };
    if (delayMs > 0) setTimeout(proceed, delayMs);
    else proceed();
  }

  #mediaTypeError(headers: IncomingHttpHeaders, route: string): RequestError | undefined {
    const declared = Number(headers["content-length"]);
    if (declared > this.#state.config.bodyLimitBytes) return bodyTooLarge(this.#state.config.bodyLimitBytes);
    const type = headers["content-type"];
    // An OIP body is JSON by definition, and Triton's client sends no content-type with it.
    if (type === undefined && isOip(route)) return undefined;
    return isJson(type) ? undefined : unsupportedMediaType(type);
  }

  #readBody(req: IncomingMessage, res: ServerResponse, route: string, startedAt: number): void {
    const limit = this.#state.config.bodyLimitBytes;
    // The body is decoded once, whole. Decoded chunk by chunk as it came (a 1,000-row body comes in
    // three reads 50-100 us apart), its pieces were 200 KB of young-generation garbage a batch on
    // top of the whole text JSON.parse makes of them: in a 2 MB young generation (node-options.ts),
    // 350 batches by name took 130 collections, 100 ms of pauses, against 83 and 57 ms.
    const chunks: Buffer[] = [];
    let bytes = 0;
    let done = false;
    req.on("data", (chunk: Buffer) => {
      if (done) return;
      bytes += chunk.length;
      if (bytes > limit) {
        done = true;
        this.#fail(req, res, route, startedAt, bodyTooLarge(limit));
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => {
      if (done) return;
      done = true;
      const text = bodyText(chunks, bytes);
      this.#answer(req, res, route, startedAt, text, bytes);
    });
    // A client that goes away mid-body gets no answer; the error must not reach the process.
    req.on("error", () => {
      done = true;
    });
  }

  #answer(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    startedAt: number,
    text: string,
    bytes: number,
  ) {
    const state = this.#state;
    let answer: string | Buffer;
    try {
      const body = parseJson(text);
      const model = state.model as ServedModel;
      const interval = model.artifact.interval;
      if (isOip(route)) {
        answer = answerInfer(state, body, bytes);
      } else if (route === BATCH_ROUTE) {
        const rows = batchRows(body, state.config.batchLimit);
        const predictions = predictV1Rows(state, model, rows, true);
        const first = record(state, rows.length, predictions, newestBarTs(rows));
        state.shadow?.mirror(route, body, bytes, predictions.slice(0, rows.length));
        answer = this.#batchAnswer.write(interval, predictions, rows.length, state.cache, first);
      } else {
        const rows = [body];
        const predictions = predictV1Rows(state, model, rows, false);
        const id = state.cache.idOf(record(state, 1, predictions, newestBarTs(rows)));
        state.shadow?.mirror(route, body, bytes, predictions.slice(0, 1));
        answer = this.#singleAnswer.write(interval, predictions[0] as number, id);
      }
    } catch (err) {
      const requestError =
        err instanceof RequestError ? err : new RequestError(500, "internal", "internal error");
      if (requestError.statusCode >= 500) state.log.error({ err, route }, "request failed");
      this.#fail(req, res, route, startedAt, requestError);
      return;
    }
    this.#send(res, route, startedAt, 200, answer, false);
  }

  #fail(
    req: IncomingMessage,
    res: ServerResponse,
    route: string,
    startedAt: number,
    err: RequestError,
  ): void {
    this.#state.metrics.errors.inc({ route, reason: err.reason });
    if (err.statusCode < 500) this.#state.metrics.rejectedInputs.inc({ reason: err.reason });
    this.#state.log.debug({ err: err.message, route }, "request rejected");
    // A body left unread (refused before reading, or cut off at the limit) leaves the connection
    // mid-request: close it after the answer.
    this.#send(res, route, startedAt, err.statusCode, JSON.stringify(errorBody(err)), !req.complete);
  }

  #send(
    res: ServerResponse,
    route: string,
    startedAt: number,
    status: number,
    json: string | Buffer,
    close: boolean,
  ) {
    // The answer's length is taken before the time: it joins an answer written in pieces (OIP) into one text.
    const length = Buffer.byteLength(json);
    const elapsedMs = performance.now() - startedAt;
    // Headers as a flat list: node writes them without building a header map first.
    const headers = [
      "content-type",
      "application/json; charset=utf-8",
      "content-length",
      String(length),
      "server-timing",
      `app;dur=${elapsedMs.toFixed(3)}`,
    ];
    // While draining, each answer closes its connection: a kept-alive one would hold shutdown open.
    if (close || this.#state.draining) headers.push("connection", "close");
    res.writeHead(status, headers);
    res.end(json);
    this.#state.metrics.observeResponse(route, status, elapsedMs / 1000);
  }
}

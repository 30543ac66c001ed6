import { createServer, type RequestListener } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import Fastify, {
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyInstance,
  type FastifyReply,
  type FastifyRequest,
  LogController,
} from "fastify";
import type { Logger } from "pino";
import type { ServeConfig } from "./config.ts";
import { errorBody, RequestError, schemaError } from "./errors.ts";
import { feedbackRoutes } from "./feedback-routes.ts";
import { createMetrics } from "./metrics.ts";
import { oipRoutes } from "./oip.ts";
import { opsRoutes } from "./ops-routes.ts";
import {
  admissionError,
  bodyTooLarge,
  chaosOutcome,
  PredictEndpoint,
  unsupportedMediaType,
} from "./predict-endpoint.ts";
import { ShadowMirror } from "./shadow.ts";
import { ServeState } from "./state.ts";

const REQUEST_TIMEOUT_MS = 30_000;
/** Longer than the 60 s idle timeout of common load balancers, so they close idle connections first. */
const KEEP_ALIVE_TIMEOUT_MS = 72_000;

export interface PredictorOptions {
  config: ServeConfig;
  log: Logger;
  /** Chaos draws from this; tests pass a fixed one. */
  random?: () => number;
  /** The clock of the feedback cache. */
  now?: () => number;
  fetch?: typeof fetch;
}

export interface Predictor {
  /** Every route but the prediction routes of PredictEndpoint; `app.listen` serves them all. */
  app: FastifyInstance;
  state: ServeState;
  /** What the server runs for each request: PredictEndpoint for its routes, fastify for the rest. */
  listener: RequestListener;
}

function routeOf(request: FastifyRequest): string {
  return request.routeOptions.url ?? "unmatched";
}

/** Fastify's own errors (body parsing, limits) as errors that name the field and say why. */
function asRequestError(err: FastifyError, config: ServeConfig, request: FastifyRequest): RequestError {
  if (err instanceof RequestError) return err;
  switch (err.code) {
    case "FST_ERR_CTP_INVALID_JSON_BODY":
      return new RequestError(400, "invalid_json", "body is not valid JSON", "body");
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
      return new RequestError(400, "invalid_json", "body is empty; send a JSON object", "body");
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return bodyTooLarge(config.bodyLimitBytes);
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return unsupportedMediaType(request.headers["content-type"]);
  }
  if (typeof err.statusCode === "number" && err.statusCode >= 400 && err.statusCode < 500) {
    return new RequestError(err.statusCode, "invalid_body", `body: ${err.message}`, "body");
  }
  return new RequestError(500, "internal", "internal error");
}

/**
 * Errors fastify's router raises before any route: a path it cannot decode (`/v1/%zz`, invalid
 * percent-encoding) or a path parameter over its length limit, answered in the error contract of
 * every other route rather than fastify's own body.
 */
function routerError(err: FastifyError, config: ServeConfig, request: FastifyRequest): RequestError {
  // Named back as sent, cut short: never echo a large input back.
  const url = JSON.stringify(request.url.length > 100 ? `${request.url.slice(0, 100)}...` : request.url);
  switch (err.code) {
    case "FST_ERR_BAD_URL":
      return new RequestError(
        400,
        "invalid_url",
        `url ${url} is not a valid path: bad percent-encoding`,
        "url",
      );
    case "FST_ERR_MAX_PARAM_LENGTH":
      return new RequestError(
        414,
        "invalid_url",
        `url ${url} has a path parameter over 100 characters`,
        "url",
      );
  }
  return asRequestError(err, config, request);
}

/**
 * The predictor's HTTP app. Nothing is served from /v1 until `state.load` is given an artifact;
 * the probes and /metrics answer from the start.
 */
export function buildPredictor(options: PredictorOptions): Predictor {
  const { config, log } = options;
  const metrics = createMetrics({
    model: config.modelName,
    version: config.modelVersion,
    track: config.modelTrack,
  });
  const shadow = config.shadowUrl
    ? new ShadowMirror({
        url: config.shadowUrl,
        queue: config.shadowQueue,
        queueBytes: config.shadowQueueBytes,
        concurrency: config.shadowConcurrency,
        timeoutMs: config.shadowTimeoutMs,
        retries: config.shadowRetries,
        metrics,
        log,
        ...(options.fetch ? { fetch: options.fetch } : {}),
        ...(options.now ? { now: options.now } : {}),
      })
    : undefined;
  const state = new ServeState(config, metrics, log, shadow, options.now);
  const random = options.random ?? Math.random;
  const predict = new PredictEndpoint(state, random);
  let routing: RequestListener = () => {};
  const listener: RequestListener = (req, res) => {
    const route = predict.routeOf(req);
    if (route) predict.handle(req, res, route);
    else routing(req, res);
  };

  const app = Fastify({
    // Fastify sets the server's timeouts only on a server it creates itself.
    serverFactory: (handler) => {
      routing = handler;
      return createServer(
        { requestTimeout: REQUEST_TIMEOUT_MS, keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS },
        listener,
      );
    },
    loggerInstance: log as FastifyBaseLogger,
    // A log line per request would cost more than the prediction; errors are logged by the handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.bodyLimitBytes,
    // A client has this long to send its whole request; a slow sender cannot hold a connection.
    requestTimeout: REQUEST_TIMEOUT_MS,
    return503OnClosing: true,
    // Plain JSON.parse: the default also scans every body twice by regex for "__proto__" and
    // "constructor" keys, which costs as much as the predictions of a 1,000-row batch. Such a key
    // is harmless here: JSON.parse makes it an own data property, not a prototype, and no handler
    // copies a body into another object; each reads known fields by name and rejects any other
    // key with a 400 naming it (the row decoder by hand, the feedback schema by additionalProperties).
    onProtoPoisoning: "ignore",
    onConstructorPoisoning: "ignore",
    ajv: {
      customOptions: { coerceTypes: false, removeAdditional: false, strictNumbers: true, allErrors: false },
    },
    schemaErrorFormatter: schemaError,
    frameworkErrors: (err, request, reply) => sendError(request, reply, routerError(err, config, request)),
  });
  // Only JSON is accepted: anything else is a 415 rather than a string the schema then rejects.
  app.removeContentTypeParser("text/plain");

  const sendError = (request: FastifyRequest, reply: FastifyReply, err: RequestError) => {
    metrics.errors.inc({ route: routeOf(request), reason: err.reason });
    return reply.code(err.statusCode).send(errorBody(err));
  };

  app.setErrorHandler((err: FastifyError, request, reply) => {
    const requestError = asRequestError(err, config, request);
    if (requestError.statusCode >= 500) request.log.error({ err, route: routeOf(request) }, "request failed");
    else request.log.debug({ err: requestError.message, route: routeOf(request) }, "request rejected");
    return sendError(request, reply, requestError);
  });

  app.setNotFoundHandler((request, reply) =>
    sendError(
      request,
      reply,
      new RequestError(404, "not_found", `no route ${request.method} ${request.url}`),
    ),
  );

  app.addHook("onRequest", async (request, reply) => {
    if (!request.url.startsWith("/v1/") || request.routeOptions.url === undefined) return;
    const refused = admissionError(state, request.headers);
    if (refused) return sendError(request, reply, refused);
    const { delayMs, error } = chaosOutcome(state, random);
    if (delayMs > 0) await sleep(delayMs);
    if (error) return sendError(request, reply, error);
  });

  // Server time as the predictor sees it (parse, validate, predict, serialize), for clients and
  // benchmarks. While draining, each answer closes its connection: a kept-alive connection would
  // hold shutdown open until the deadline.
  app.addHook("onSend", async (_request, reply) => {
    reply.header("server-timing", `app;dur=${reply.elapsedTime.toFixed(3)}`);
    if (state.draining) reply.header("connection", "close");
  });

  app.addHook("onResponse", async (request, reply) => {
    metrics.observeResponse(routeOf(request), reply.statusCode, reply.elapsedTime / 1000);
  });

  opsRoutes(app, state);
  feedbackRoutes(app, state);
  oipRoutes(app, state);
  return { app, state, listener };
}

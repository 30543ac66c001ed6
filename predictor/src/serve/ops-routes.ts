import type { FastifyInstance } from "fastify";
import { RequestError } from "./errors.ts";
import type { ServedModel } from "./model.ts";
import type { ServeState } from "./state.ts";

/** Probes, metrics and a description of the served model. */
export function opsRoutes(app: FastifyInstance, state: ServeState): void {
  app.get("/healthz", () => ({ status: "ok" }));

  app.get("/readyz", () => {
    if (state.ready) return { status: "ready" };
    const why = state.model ? "shutting down" : "model not loaded yet";
    throw new RequestError(503, state.model ? "shutting_down" : "not_ready", `not ready: ${why}`);
  });

  app.get("/metrics", async (_request, reply) => {
    const { registry } = state.metrics;
    reply.header("content-type", registry.contentType);
    return registry.metrics();
  });

  /** What a client needs to call the model (feature order, bars needed); the /v1 hook checks it is loaded. */
  app.get("/v1/model", () => {
    const model = state.model as ServedModel;
    const { artifact } = model;
    return {
      model: state.config.modelName,
      modelVersion: state.config.modelVersion,
      track: state.config.modelTrack,
      artifactSha256: model.sha256,
      features: model.features,
      lookbackBars: model.window.lookback,
      target: artifact.target,
      algorithm: artifact.algorithm,
      interval: artifact.interval,
      metrics: artifact.metrics,
      codeVersion: artifact.codeVersion,
    };
  });
}

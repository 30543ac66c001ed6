import type { FastifyInstance, FastifyRequest } from "fastify";
import { predictRow } from "../artifact.ts";
import { invalidField } from "./errors.ts";
import type { ServedModel } from "./model.ts";
import { decodeRow, rowPath } from "./rows.ts";
import type { ServeState } from "./state.ts";

const number = { type: "number" } as const;
const string = { type: "string" } as const;

const resultSchema = {
  type: "object",
  required: ["prediction", "interval", "predictionId"],
  properties: {
    prediction: number,
    interval: {
      type: "object",
      required: ["lower", "upper", "level"],
      properties: { lower: number, upper: number, level: number },
    },
    predictionId: string,
  },
} as const;

const identitySchema = { model: string, modelVersion: string, track: string } as const;

/**
 * Decodes and predicts every row before recording any, so that a bad row fails the request as a
 * whole and leaves no trace in the feedback cache, the drift window or the counters.
 */
function decodeAndPredict(
  state: ServeState,
  model: ServedModel,
  rows: readonly unknown[],
  batch: boolean,
): Float64Array {
  const n = model.features.length;
  const values = state.values(rows.length * n);
  const predictions = state.predictions(rows.length);
  const row = new Float64Array(n);
  for (let i = 0; i < rows.length; i++) {
    decodeRow(rows[i], batch ? i : -1, model, row);
    const y = predictRow(model.artifact, row);
    if (!Number.isFinite(y)) {
      throw invalidField(
        rowPath(batch ? i : -1) || "body",
        "gives a non-finite prediction: feature values far outside the model's range",
      );
    }
    values.set(row, i * n);
    predictions[i] = y;
  }
  return predictions;
}

/** Remembers each prediction for feedback and adds its row to the drift window; returns the ids. */
function record(state: ServeState, model: ServedModel, count: number, predictions: Float64Array): string[] {
  const values = state.values(0);
  const drift = state.drift;
  const ids = new Array<string>(count);
  const now = state.cache.now();
  for (let i = 0; i < count; i++) {
    ids[i] = state.cache.remember(predictions[i] as number, now);
    drift?.add(values, i * model.features.length);
  }
  state.metrics.predictions.inc(count);
  return ids;
}

/**
 * The batch answer, `{model, modelVersion, track, results: [{prediction, interval, predictionId}]}`,
 * written straight from the prediction buffer: building 2,000 objects for a schema serializer to
 * walk took longer than everything else in a 1,000-row batch. `head` is the JSON of the identity
 * fields; predictions are finite (checked when predicted) and ids need no escaping (prefix in
 * base64url, sequence in digits), so plain concatenation writes valid JSON.
 */
export function batchResponseJson(
  head: string,
  interval: { lower: number; upper: number; level: number },
  predictions: ArrayLike<number>,
  ids: readonly string[],
): string {
  const { lower, upper } = interval;
  const beforeId = `,"level":${interval.level}},"predictionId":"`;
  let json = `${head},"results":[`;
  for (let i = 0; i < ids.length; i++) {
    const y = predictions[i] as number;
    if (i > 0) json += ",";
    json += `{"prediction":${y},"interval":{"lower":${y + lower},"upper":${y + upper}${beforeId}${ids[i]}"}`;
  }
  return `${json}]}`;
}

function mirror(state: ServeState, request: FastifyRequest, count: number, predictions: Float64Array): void {
  if (!state.shadow) return;
  const bytes = Number(request.headers["content-length"]) || 0;
  state.shadow.mirror(request.url, request.body, bytes, predictions.slice(0, count));
}

export function predictRoutes(app: FastifyInstance, state: ServeState): void {
  const identity = {
    model: state.config.modelName,
    modelVersion: state.config.modelVersion,
    track: state.config.modelTrack,
  };
  const batchHead = JSON.stringify(identity).slice(0, -1);

  app.post(
    "/v1/predict",
    {
      schema: {
        response: { 200: { type: "object", properties: { ...resultSchema.properties, ...identitySchema } } },
      },
    },
    (request) => {
      const model = state.model as ServedModel;
      const predictions = decodeAndPredict(state, model, [request.body], false);
      const [predictionId] = record(state, model, 1, predictions);
      mirror(state, request, 1, predictions);
      const prediction = predictions[0] as number;
      const { lower, upper, level } = model.artifact.interval;
      return {
        prediction,
        interval: { lower: prediction + lower, upper: prediction + upper, level },
        predictionId,
        ...identity,
      };
    },
  );

  app.post(
    "/v1/predict/batch",
    {
      schema: {
        body: {
          type: "object",
          required: ["rows"],
          additionalProperties: false,
          properties: { rows: { type: "array", minItems: 1, maxItems: state.config.batchLimit } },
        },
      },
    },
    (request, reply) => {
      const model = state.model as ServedModel;
      const rows = (request.body as { rows: unknown[] }).rows;
      const predictions = decodeAndPredict(state, model, rows, true);
      const ids = record(state, model, rows.length, predictions);
      mirror(state, request, rows.length, predictions);
      const json = batchResponseJson(batchHead, model.artifact.interval, predictions, ids);
      return reply.type("application/json; charset=utf-8").send(json);
    },
  );
}

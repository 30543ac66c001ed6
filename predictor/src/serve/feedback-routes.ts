import type { FastifyInstance } from "fastify";
import { RequestError } from "./errors.ts";
import { directionalHit, type FeedbackMatch } from "./prediction-cache.ts";
import type { ServeState } from "./state.ts";

interface FeedbackItem {
  predictionId: string;
  realized: number;
}

type FeedbackStatus = FeedbackMatch["status"];

export interface FeedbackResult {
  predictionId: string;
  status: FeedbackStatus;
  /** Whether the prediction called the sign of the realized return; only when scored. */
  hit?: boolean;
}

const item = {
  predictionId: { type: "string", minLength: 1, maxLength: 200 },
  realized: { type: "number" },
} as const;

const resultSchema = {
  type: "object",
  required: ["predictionId", "status"],
  properties: { predictionId: { type: "string" }, status: { type: "string" }, hit: { type: "boolean" } },
} as const;

/** Matches one report with its prediction and counts it; unmatched ids are counted by reason. */
function score(state: ServeState, { predictionId, realized }: FeedbackItem): FeedbackResult {
  const match = state.cache.take(predictionId);
  const { metrics } = state;
  if (match.status !== "scored") {
    metrics.feedbackUnmatched.inc({ reason: match.status });
    return { predictionId, status: match.status };
  }
  const hit = directionalHit(match.prediction, realized);
  metrics.feedback.inc();
  if (hit) metrics.feedbackHits.inc();
  return { predictionId, status: "scored", hit };
}

export function feedbackRoutes(app: FastifyInstance, state: ServeState): void {
  app.post(
    "/v1/feedback",
    {
      schema: {
        body: {
          type: "object",
          additionalProperties: false,
          properties: {
            ...item,
            items: {
              type: "array",
              minItems: 1,
              maxItems: state.config.batchLimit,
              items: {
                type: "object",
                required: ["predictionId", "realized"],
                additionalProperties: false,
                properties: item,
              },
            },
          },
        },
        response: {
          200: {
            type: "object",
            properties: {
              ...resultSchema.properties,
              results: { type: "array", items: resultSchema },
              scored: { type: "integer" },
              hits: { type: "integer" },
              unknown: { type: "integer" },
              expired: { type: "integer" },
            },
          },
        },
      },
    },
    (request) => {
      const body = request.body as Partial<FeedbackItem> & { items?: FeedbackItem[] };
      if (body.items !== undefined) {
        const extra =
          body.predictionId !== undefined
            ? "predictionId"
            : body.realized !== undefined
              ? "realized"
              : undefined;
        if (extra)
          throw new RequestError(
            400,
            "invalid_body",
            `${extra} cannot be given with items (one form or the other)`,
            extra,
          );
        const results = body.items.map((i) => score(state, i));
        const count = (status: FeedbackStatus) => results.filter((r) => r.status === status).length;
        return {
          results,
          scored: count("scored"),
          hits: results.filter((r) => r.hit).length,
          unknown: count("unknown"),
          expired: count("expired"),
        };
      }
      for (const field of ["predictionId", "realized"] as const) {
        if (body[field] === undefined)
          throw new RequestError(400, "invalid_body", `${field} is required (or items)`, field);
      }
      const result = score(state, body as FeedbackItem);
      if (result.status === "scored") return result;
      const reason = result.status === "expired" ? "expired_prediction" : "unknown_prediction";
      throw new RequestError(
        404,
        reason,
        `predictionId ${JSON.stringify(result.predictionId)} is ${result.status === "expired" ? "expired (older than FEEDBACK_TTL_MS)" : "unknown: never issued, already scored, or evicted from the cache"}`,
        "predictionId",
      );
    },
  );
}

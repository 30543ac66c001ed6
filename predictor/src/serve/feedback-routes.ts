import type { FastifyInstance } from "fastify";
import { invalidField, RequestError } from "./errors.ts";
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
  metrics.feedbackScored(match.prediction, realized, hit);
  state.pnl.record(match.prediction, realized);
  return { predictionId, status: "scored", hit };
}

type FeedbackBody = Partial<FeedbackItem> & { items?: FeedbackItem[] };

const UNMATCHED = {
  unknown: {
    reason: "unknown_prediction",
    why: "unknown: never issued, already scored, or evicted from the cache",
  },
  expired: { reason: "expired_prediction", why: "expired (older than FEEDBACK_TTL_MS)" },
} as const;

/** `{predictionId, realized}`: the result, or 404 when the id is not in the cache. */
function scoreOne(state: ServeState, body: FeedbackBody): FeedbackResult {
  for (const field of ["predictionId", "realized"] as const) {
    if (body[field] === undefined) throw invalidField(field, "is required (or items)");
  }
  const result = score(state, body as FeedbackItem);
  if (result.status === "scored") return result;
  const { reason, why } = UNMATCHED[result.status];
  throw new RequestError(
    404,
    reason,
    `predictionId ${JSON.stringify(result.predictionId)} is ${why}`,
    "predictionId",
  );
}

/** `{items}`: a result per item, and the counts. */
function scoreBatch(state: ServeState, body: FeedbackBody, items: FeedbackItem[]) {
  for (const field of ["predictionId", "realized"] as const) {
    if (body[field] !== undefined)
      throw invalidField(field, "cannot be given with items (one form or the other)");
  }
  const results = items.map((item) => score(state, item));
  const count = (status: FeedbackStatus) => results.filter((r) => r.status === status).length;
  return {
    results,
    scored: count("scored"),
    hits: results.filter((r) => r.hit).length,
    unknown: count("unknown"),
    expired: count("expired"),
  };
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
      const body = request.body as FeedbackBody;
      return body.items === undefined ? scoreOne(state, body) : scoreBatch(state, body, body.items);
    },
  );
}

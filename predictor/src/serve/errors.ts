import type { FastifySchemaValidationError } from "fastify";

/** Why a request failed: the `reason` label of `predictor_http_errors_total` and of the error body. */
export type ErrorReason =
  | "invalid_url"
  | "invalid_json"
  | "invalid_body"
  | "body_too_large"
  | "unsupported_media_type"
  | "unknown_prediction"
  | "expired_prediction"
  | "not_found"
  | "not_ready"
  | "shutting_down"
  | "chaos"
  | "internal";

/** An error a client is told about: status, reason, the field at fault and a message naming it. */
export class RequestError extends Error {
  override name = "RequestError";
  readonly statusCode: number;
  readonly reason: ErrorReason;
  readonly field: string | undefined;

  constructor(statusCode: number, reason: ErrorReason, message: string, field?: string) {
    super(message);
    this.statusCode = statusCode;
    this.reason = reason;
    this.field = field;
  }
}

/** Bad content in an otherwise well-formed request: 400, naming the field. */
export function invalidField(field: string, message: string): RequestError {
  return new RequestError(400, "invalid_body", `${field} ${message}`, field);
}

export interface ErrorBody {
  error: string;
  reason: ErrorReason;
  field?: string;
}

export function errorBody(err: RequestError): ErrorBody {
  return err.field === undefined
    ? { error: err.message, reason: err.reason }
    : { error: err.message, reason: err.reason, field: err.field };
}

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;

/** `rows`, 3, `features`, `ret 5` => `rows[3].features["ret 5"]`; an empty path is the body itself. */
export function fieldPath(parent: string, key: string | number): string {
  if (typeof key === "number") return `${parent || "body"}[${key}]`;
  const step = IDENTIFIER.test(key) ? key : `[${JSON.stringify(key)}]`;
  if (parent === "") return step.startsWith("[") ? `body${step}` : step;
  return step.startsWith("[") ? `${parent}${step}` : `${parent}.${step}`;
}

/** A short description of a value for an error message; never echoes a large input back. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return `an array of ${value.length}`;
  switch (typeof value) {
    case "string":
      return value.length > 40 ? `a string ${JSON.stringify(value.slice(0, 40))}...` : `"${value}"`;
    case "number":
      return String(value);
    case "undefined":
      return "nothing";
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

/** The JSON pointer ajv reports (`/rows/3`) as a field path (`rows[3]`). */
function pointerToField(pointer: string): string {
  let field = "";
  for (const part of pointer.split("/").slice(1)) {
    const key = part.replaceAll("~1", "/").replaceAll("~0", "~");
    field = fieldPath(field, /^\d+$/.test(key) ? Number(key) : key);
  }
  return field || "body";
}

/**
 * Turns the first schema violation into a RequestError naming the field; fastify calls this for
 * every schema-validated request that fails.
 */
export function schemaError(errors: FastifySchemaValidationError[]): RequestError {
  const first = errors[0];
  if (!first) return new RequestError(400, "invalid_body", "body is invalid", "body");
  const field = pointerToField(first.instancePath);
  const params = first.params as Record<string, unknown>;
  if (first.keyword === "additionalProperties") {
    const extra = fieldPath(field === "body" ? "" : field, String(params.additionalProperty));
    return new RequestError(400, "invalid_body", `${extra} is not a known field`, extra);
  }
  if (first.keyword === "required") {
    const missing = fieldPath(field === "body" ? "" : field, String(params.missingProperty));
    return new RequestError(400, "invalid_body", `${missing} is required`, missing);
  }
  return new RequestError(400, "invalid_body", `${field} ${first.message ?? "is invalid"}`, field);
}

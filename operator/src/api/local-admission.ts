// client-node's quantity parser is not re-exported from its index.
import { quantityToScalar } from "@kubernetes/client-node/dist/util.js";
import { Environment } from "@marcbachmann/cel-js";
import type { JSONSchemaProps } from "./json-schema.ts";

/**
 * What the apiserver does with an object sent to a CRD, done locally so unit tests can assert the
 * schema without a cluster: unknown-field rejection (kubectl's strict field validation), defaulting,
 * structural validation, then the CEL rules, with errors naming the field the way the apiserver
 * does (`spec.rollout.canary.steps[1]`). The e2e suite applies the same fixtures to a real
 * apiserver, which stays the authority; this is the fast feedback loop.
 */

export interface FieldError {
  field: string;
  message: string;
}

/** Standard CEL plus the Kubernetes library functions our rules use (quantity, isSorted). */
const cel = new Environment({ unlistedVariablesAreDyn: true, homogeneousAggregateLiterals: false })
  .registerFunction("quantity(string): double", (s: string) => Number(quantityToScalar(s)))
  .registerFunction("double.compareTo(double): int", (a: number, b: number) => BigInt(Math.sign(a - b)))
  .registerFunction("list<int>.isSorted(): bool", (l: readonly bigint[]) =>
    l.every((x, i) => i === 0 || (l[i - 1] as bigint) <= x),
  );

const typeName = (v: unknown) => (Array.isArray(v) ? "array" : v === null ? "null" : typeof v);

function joinPath(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

/** The JS value as CEL sees it: integers as int (bigint), everything else as is. */
function toCel(schema: JSONSchemaProps, value: unknown): unknown {
  if (typeof value === "number" && (schema.type === "integer" || schema["x-kubernetes-int-or-string"])) {
    return BigInt(value);
  }
  if (Array.isArray(value)) return value.map((v) => toCel(schema.items ?? {}, v));
  if (value && typeof value === "object") {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties?.[k] ?? schema.additionalProperties ?? {};
      out[k] = toCel(child, v);
    }
    return out;
  }
  return value;
}

function applyDefaults(schema: JSONSchemaProps, value: unknown): unknown {
  if (Array.isArray(value)) return value.map((v) => applyDefaults(schema.items ?? {}, v));
  if (!value || typeof value !== "object" || !schema.properties) return value;
  const out: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const [k, child] of Object.entries(schema.properties)) {
    if (out[k] === undefined && child.default !== undefined) out[k] = structuredClone(child.default);
    if (out[k] !== undefined) out[k] = applyDefaults(child, out[k]);
  }
  return out;
}

function checkScalar(schema: JSONSchemaProps, value: unknown, path: string, errors: FieldError[]): void {
  const fail = (message: string) => errors.push({ field: path, message });
  if (schema.enum && !schema.enum.includes(value as string | number)) {
    fail(
      `Unsupported value: ${JSON.stringify(value)}: supported values: ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`,
    );
  }
  if (typeof value === "number") {
    if (
      schema.minimum !== undefined &&
      (value < schema.minimum || (schema.exclusiveMinimum && value === schema.minimum))
    ) {
      fail(
        `Invalid value: ${value}: should be greater than ${schema.exclusiveMinimum ? "" : "or equal to "}${schema.minimum}`,
      );
    }
    if (
      schema.maximum !== undefined &&
      (value > schema.maximum || (schema.exclusiveMaximum && value === schema.maximum))
    ) {
      fail(
        `Invalid value: ${value}: should be less than ${schema.exclusiveMaximum ? "" : "or equal to "}${schema.maximum}`,
      );
    }
  }
  if (typeof value === "string") {
    if (schema.maxLength !== undefined && value.length > schema.maxLength) {
      fail(`Too long: may not be more than ${schema.maxLength} bytes`);
    }
    if (schema.minLength !== undefined && value.length < schema.minLength) {
      fail(`Invalid value: should be at least ${schema.minLength} chars long`);
    }
    if (schema.pattern && !new RegExp(schema.pattern, "u").test(value)) {
      fail(`Invalid value: ${JSON.stringify(value)}: should match '${schema.pattern}'`);
    }
  }
}

function checkType(schema: JSONSchemaProps, value: unknown): string | undefined {
  if (schema["x-kubernetes-int-or-string"]) {
    return Number.isInteger(value) || typeof value === "string" ? undefined : "integer or string";
  }
  const ok: Record<string, (v: unknown) => boolean> = {
    object: (v) => typeName(v) === "object",
    array: Array.isArray,
    string: (v) => typeof v === "string",
    integer: Number.isInteger,
    number: (v) => typeof v === "number" && Number.isFinite(v),
    boolean: (v) => typeof v === "boolean",
  };
  return schema.type && !ok[schema.type]?.(value) ? schema.type : undefined;
}

function checkStructure(schema: JSONSchemaProps, value: unknown, path: string, errors: FieldError[]): void {
  const wanted = checkType(schema, value);
  if (wanted) {
    errors.push({
      field: path,
      message: `Invalid value: ${JSON.stringify(value)}: must be of type ${wanted}`,
    });
    return;
  }
  checkScalar(schema, value, path, errors);
  if (Array.isArray(value)) {
    if (schema.minItems !== undefined && value.length < schema.minItems) {
      errors.push({
        field: path,
        message: `Invalid value: ${value.length}: should have at least ${schema.minItems} items`,
      });
    }
    if (schema.maxItems !== undefined && value.length > schema.maxItems) {
      errors.push({
        field: path,
        message: `Too many: ${value.length}: must have at most ${schema.maxItems} items`,
      });
    }
    value.forEach((item, i) => {
      if (schema["x-kubernetes-list-type"] === "set" && value.indexOf(item) < i) {
        errors.push({ field: `${path}[${i}]`, message: `Duplicate value: ${JSON.stringify(item)}` });
      }
      checkStructure(schema.items ?? {}, item, `${path}[${i}]`, errors);
    });
    return;
  }
  if (schema.type !== "object" || !value || typeof value !== "object") return;
  const record = value as Record<string, unknown>;
  for (const name of schema.required ?? []) {
    if (record[name] === undefined) errors.push({ field: joinPath(path, name), message: "Required value" });
  }
  for (const [k, v] of Object.entries(record)) {
    const child = schema.properties?.[k] ?? schema.additionalProperties;
    if (child) checkStructure(child, v, joinPath(path, k), errors);
    else if (!schema["x-kubernetes-preserve-unknown-fields"] && path !== "metadata" && schema.properties) {
      errors.push({ field: joinPath(path, k), message: `unknown field "${joinPath(path, k)}"` });
    }
  }
}

function checkRules(
  schema: JSONSchemaProps,
  value: unknown,
  old: unknown,
  path: string,
  errors: FieldError[],
): void {
  for (const rule of schema["x-kubernetes-validations"] ?? []) {
    const transition = rule.rule.includes("oldSelf");
    if (transition && old === undefined) continue;
    const field = rule.fieldPath ? `${path}${rule.fieldPath}`.replace(/^\./, "") : path;
    let ok: unknown;
    try {
      ok = cel.evaluate(rule.rule, { self: toCel(schema, value), oldSelf: toCel(schema, old) });
    } catch (err) {
      errors.push({ field, message: `Invalid value: rule evaluation error: ${(err as Error).message}` });
      continue;
    }
    if (ok !== true)
      errors.push({ field, message: `Invalid value: ${rule.message ?? `failed rule: ${rule.rule}`}` });
  }
  const oldRecord = old && typeof old === "object" ? (old as Record<string, unknown>) : undefined;
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkRules(schema.items ?? {}, item, Array.isArray(old) ? old[i] : undefined, `${path}[${i}]`, errors);
    });
  } else if (value && typeof value === "object" && schema.properties) {
    for (const [k, v] of Object.entries(value)) {
      const child = schema.properties[k];
      if (child) checkRules(child, v, oldRecord?.[k], joinPath(path, k), errors);
    }
  }
}

/**
 * Errors in a schema's own defaults, as the apiserver finds them when the CRD is applied: each
 * default is checked against the rules of the schema that holds it, as written (its fields'
 * defaults not applied), so a rule must hold for an object that is still being defaulted.
 */
export function defaultErrors(schema: JSONSchemaProps, path = ""): FieldError[] {
  const errors: FieldError[] = [];
  if (schema.default !== undefined) checkRules(schema, schema.default, undefined, path, errors);
  for (const [k, child] of Object.entries(schema.properties ?? {})) {
    errors.push(...defaultErrors(child, joinPath(path, k)));
  }
  if (schema.items) errors.push(...defaultErrors(schema.items, `${path}[]`));
  return errors;
}

/**
 * Admits `object` (and, on update, its predecessor `old`) against a CRD's openAPIV3Schema. Returns
 * the defaulted object and every error; CEL rules run only once the structure is valid, as their
 * results on a malformed object would say nothing useful.
 */
export function admit(
  schema: JSONSchemaProps,
  object: unknown,
  old?: unknown,
): { object: unknown; errors: FieldError[] } {
  const defaulted = applyDefaults(schema, object);
  const errors: FieldError[] = [];
  checkStructure(schema, defaulted, "", errors);
  if (errors.length === 0)
    checkRules(schema, defaulted, old === undefined ? undefined : applyDefaults(schema, old), "", errors);
  return { object: defaulted, errors };
}

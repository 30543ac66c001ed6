import { describe, expect, it } from "vitest";
import { SPEC_BOUNDS } from "../../../predictor/src/bounds.ts";
import { parseTrainSpec, SpecError } from "../../../predictor/src/train/spec.ts";
import { trainerSpec } from "../manifests/trainer-spec.ts";
import { validTradingModel } from "./invalid-examples.ts";
import type { JSONSchemaProps } from "./json-schema.ts";
import { admit } from "./local-admission.ts";
import { tradingModelSchema } from "./tradingmodel.ts";
import type { TradingModelSpec } from "./types.ts";

/*
 * The apiserver must admit exactly the numbers the trainer takes. Walks every numeric field of the
 * TradingModel's spec, finds those that reach the trainer's --spec (by where trainerSpec puts
 * them), and for each compares the schema's bounds with the trainer's, then probes both at and
 * just beyond each bound: the real admission (schema + CEL, locally) against the real parser.
 */

type Doc = Record<string, unknown>;

/** Numeric fields of the spec that the operator uses itself and never hands to the trainer. */
const OPERATOR_ONLY =
  /^(training\.gate\.|training\.backoffLimit$|training\.activeDeadlineSeconds$|serving\.|rollout\.|analysis\.|versionHistoryLimit$|monitoring\.)/;

function* numericFields(schema: JSONSchemaProps, path: string): Generator<[string, JSONSchemaProps]> {
  if (schema.type === "number" || schema.type === "integer") yield [path, schema];
  for (const [k, child] of Object.entries(schema.properties ?? {}))
    yield* numericFields(child, path ? `${path}.${k}` : k);
}

const specSchema = (tradingModelSchema.properties.spec ?? {}) as JSONSchemaProps;
const fields = [...numericFields(specSchema, "")];

function get(doc: unknown, path: string): unknown {
  return path.split(".").reduce<unknown>((o, k) => (o as Doc | undefined)?.[k], doc);
}

function set(doc: Doc, path: string, value: unknown): void {
  const keys = path.split(".");
  const last = keys.pop() as string;
  let node = doc;
  for (const k of keys) {
    node[k] ??= {};
    node = node[k] as Doc;
  }
  node[last] = value;
}

/** A valid model with every trainer-bound field present: Ridge, walk-forward, a drifting synthetic market. */
function fullModel(): Doc {
  const tm = validTradingModel() as Doc;
  const spec = tm.spec as Doc;
  set(spec, "training.walkForward.folds", 3);
  set(spec, "training.data.synthetic", {
    seed: 1,
    bars: 5_000_000,
    drift: { fromBar: 100, volatilityScale: 2, signalScale: 0, volumeScale: 3 },
  });
  set(spec, "training.strategy", { band: 0, positionLimit: 1, costBps: 2 });
  return tm;
}

/** A value distinct from any field's default, to see where trainerSpec carries the field. */
const MARKER = 3;

function apiRefuses(path: string, value: number): boolean {
  const tm = fullModel();
  set(tm.spec as Doc, path, value);
  return admit(tradingModelSchema, tm).errors.some((e) => e.field === `spec.${path}`);
}

function trainerRefuses(path: string, value: number): boolean {
  const doc = trainerSpec(
    (admit(tradingModelSchema, fullModel()).object as { spec: TradingModelSpec }).spec,
  ) as unknown as Doc;
  set(doc, path, value);
  try {
    parseTrainSpec(doc);
    return false;
  } catch (err) {
    if (!(err instanceof SpecError)) throw err;
    return err.problems.some((p) => p.startsWith(`spec.${path}:`));
  }
}

/** The values at and just beyond each bound of a field. */
function probes(schema: JSONSchemaProps): number[] {
  const step = (bound: number) => (schema.type === "integer" ? 1 : Math.max(1e-9, Math.abs(bound) * 1e-9));
  const values: number[] = [];
  for (const bound of [schema.minimum, schema.maximum]) {
    if (bound !== undefined) values.push(bound - step(bound), bound, bound + step(bound));
  }
  if (schema.type === "integer" && schema.minimum !== undefined) values.push(schema.minimum + 0.5);
  return values;
}

const trainerFields = fields.filter(([path]) => !OPERATOR_ONLY.test(path));

describe("the CRD's numeric bounds are the trainer's", () => {
  it("the walk finds the trainer's fields, and every other numeric field is the operator's own", () => {
    expect(trainerFields.length).toBeGreaterThan(10);
    for (const [path] of fields) {
      const tm = fullModel();
      set(tm.spec as Doc, path, MARKER);
      const doc = trainerSpec((admit(tradingModelSchema, tm).object as { spec: TradingModelSpec }).spec);
      expect(get(doc, path) === MARKER, `${path} reaches the trainer`).toBe(!OPERATOR_ONLY.test(path));
    }
  });

  it("every bound of the trainer's spec is in the CRD, but for the fields the API does not expose", () => {
    const inApi = new Set(trainerFields.map(([path]) => path));
    for (const [path, bounds] of Object.entries(SPEC_BOUNDS)) {
      expect(inApi.has(path), path).toBe(!("api" in bounds));
    }
  });

  it.each(trainerFields)("%s: same type, minimum, maximum and exclusiveness", (path, schema) => {
    const bounds = SPEC_BOUNDS[path as keyof typeof SPEC_BOUNDS];
    expect(bounds, `${path} has no entry in SPEC_BOUNDS`).toBeDefined();
    expect(schema.type).toBe(bounds.integer ? "integer" : "number");
    expect({
      minimum: schema.minimum,
      exclusiveMinimum: schema.exclusiveMinimum,
      maximum: schema.maximum,
      exclusiveMaximum: schema.exclusiveMaximum,
    }).toEqual({
      minimum: bounds.minimum,
      exclusiveMinimum: "exclusiveMinimum" in bounds ? true : undefined,
      maximum: "maximum" in bounds ? bounds.maximum : undefined,
      exclusiveMaximum: "exclusiveMaximum" in bounds ? true : undefined,
    });
  });

  it.each(trainerFields)(
    "%s: the apiserver admits a value exactly when the trainer takes it",
    (path, schema) => {
      for (const value of probes(schema)) {
        expect(apiRefuses(path, value), `${path} = ${value}: trainer refuses`).toBe(
          trainerRefuses(path, value),
        );
      }
    },
  );
});

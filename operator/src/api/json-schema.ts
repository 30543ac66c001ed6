/**
 * The subset of the Kubernetes structural OpenAPI v3 schema our CRDs use, and a type-level mapping
 * from a schema literal to the TypeScript type of the objects it admits. The schema literals in this
 * folder are the single source of truth: the CRD YAML is generated from them and the TypeScript
 * types are computed from them, so the two cannot drift apart.
 */

export type SchemaType = "object" | "array" | "string" | "integer" | "number" | "boolean";

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  /** Relative JSON path (from the node carrying the rule) of the field the error names. */
  fieldPath?: string;
  reason?: "FieldValueInvalid" | "FieldValueForbidden" | "FieldValueRequired" | "FieldValueDuplicate";
  optionalOldSelf?: boolean;
}

export interface JSONSchemaProps {
  type?: SchemaType;
  description?: string;
  properties?: { readonly [name: string]: JSONSchemaProps };
  required?: readonly string[];
  additionalProperties?: JSONSchemaProps;
  items?: JSONSchemaProps;
  enum?: readonly (string | number)[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: boolean;
  exclusiveMaximum?: boolean;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  anyOf?: readonly JSONSchemaProps[];
  "x-kubernetes-int-or-string"?: boolean;
  "x-kubernetes-preserve-unknown-fields"?: boolean;
  "x-kubernetes-list-type"?: "atomic" | "set" | "map";
  "x-kubernetes-list-map-keys"?: readonly string[];
  "x-kubernetes-map-type"?: "atomic" | "granular";
  "x-kubernetes-validations"?: readonly ValidationRule[];
}

/**
 * How optional fields map:
 * - "input": what a user may write; only `required` properties are mandatory.
 * - "stored": what the operator reads back from the apiserver, which has applied every `default`;
 *   a property with a default is therefore always present (when its parent is).
 */
export type SchemaMode = "input" | "stored";

type Simplify<T> = { [K in keyof T]: T[K] } & {};

type RequiredNames<S> = S extends { required: readonly (infer R)[] } ? R : never;

type IsPresent<P, K extends keyof P, S, M extends SchemaMode> =
  K extends RequiredNames<S>
    ? true
    : M extends "stored"
      ? P[K] extends { default: unknown }
        ? true
        : false
      : false;

type ObjectOf<S, P, M extends SchemaMode> = Simplify<
  { -readonly [K in keyof P as IsPresent<P, K, S, M> extends true ? K : never]: FromSchema<P[K], M> } & {
    -readonly [K in keyof P as IsPresent<P, K, S, M> extends true ? never : K]?: FromSchema<P[K], M>;
  }
>;

/** The TypeScript type of the values a schema literal (declared `as const`) admits. */
export type FromSchema<S, M extends SchemaMode = "stored"> = S extends { "x-kubernetes-int-or-string": true }
  ? number | string
  : S extends { enum: readonly (infer E)[] }
    ? E
    : S extends { type: "string" }
      ? string
      : S extends { type: "integer" | "number" }
        ? number
        : S extends { type: "boolean" }
          ? boolean
          : S extends { type: "array"; items: infer I }
            ? FromSchema<I, M>[]
            : S extends { type: "object"; properties: infer P }
              ? ObjectOf<S, P, M>
              : S extends { type: "object"; additionalProperties: infer A }
                ? Record<string, FromSchema<A, M>>
                : S extends { type: "object"; "x-kubernetes-preserve-unknown-fields": true }
                  ? Record<string, unknown>
                  : never;

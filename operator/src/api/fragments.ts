import type { JSONSchemaProps, ValidationRule } from "./json-schema.ts";

/** Go duration syntax (time.ParseDuration), which is also what CEL's duration() accepts. */
export const DURATION_PATTERN = "^([0-9]+(\\.[0-9]+)?(ns|us|µs|ms|s|m|h))+$";

/** Kubernetes resource.Quantity, as the apiserver's own CRDs spell it. */
const QUANTITY_PATTERN =
  "^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$";

export const SHA256_PATTERN = "^[a-f0-9]{64}$";

/** DNS-1123 subdomain: the name of a ConfigMap. */
export const OBJECT_NAME_PATTERN = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

/** A ConfigMap key: alphanumerics, '-', '_' or '.'. */
const CONFIGMAP_KEY_PATTERN = "^[-._a-zA-Z0-9]+$";

/**
 * A Go duration string within bounds. The bound rule first re-checks the pattern because the
 * apiserver runs CEL rules even on a value that failed the pattern, and duration() of it would add
 * a second, cryptic error to the clear one.
 */
export function duration<const Extra extends JSONSchemaProps>(
  description: string,
  bounds: { min: string; max: string },
  extra: Extra,
  syntax: { pattern: string; name: string } = { pattern: DURATION_PATTERN, name: "Go duration syntax" },
) {
  const { pattern } = syntax;
  return {
    type: "string",
    description: `${description} ${syntax.name}, e.g. 30s, 2m, 1h30m; ${bounds.min}..${bounds.max}.`,
    pattern,
    maxLength: 32,
    "x-kubernetes-validations": [
      {
        rule: `!self.matches(r'${pattern}') || (duration(self) >= duration('${bounds.min}') && duration(self) <= duration('${bounds.max}'))`,
        message: `must be within ${bounds.min}..${bounds.max}`,
      },
    ],
    ...extra,
  } as const;
}

function quantity(description: string) {
  return {
    description,
    anyOf: [{ type: "integer" }, { type: "string" }],
    pattern: QUANTITY_PATTERN,
    "x-kubernetes-int-or-string": true,
  } as const;
}

function resourceList(description: string) {
  return {
    type: "object",
    description,
    properties: {
      cpu: quantity("CPU in cores or millicores, e.g. 500m or 2."),
      memory: quantity("Memory in bytes with an optional suffix, e.g. 512Mi or 2Gi."),
    },
  } as const;
}

const limitNotBelowRequest = (resource: "cpu" | "memory") =>
  `!has(self.requests) || !has(self.limits) || !has(self.requests.${resource}) || !has(self.limits.${resource}) || quantity(string(self.limits.${resource})).compareTo(quantity(string(self.requests.${resource}))) >= 0`;

/** The container resources of a pod the operator creates; `defaults` apply when the field is omitted. */
export function resourceRequirements<const D>(description: string, defaults: D) {
  return {
    type: "object",
    description: `${description} Omitted: ${JSON.stringify(defaults)}.`,
    default: defaults,
    properties: {
      requests: resourceList("Resources the scheduler reserves for the container."),
      limits: resourceList(
        "The most the container may use; memory above it is killed, CPU above it throttled.",
      ),
    },
    "x-kubernetes-validations": [
      {
        rule: limitNotBelowRequest("cpu"),
        message: "limits.cpu must not be below requests.cpu",
        fieldPath: ".limits.cpu",
      },
      {
        rule: limitNotBelowRequest("memory"),
        message: "limits.memory must not be below requests.memory",
        fieldPath: ".limits.memory",
      },
    ],
  } as const;
}

export function configMapKeyRef<const K extends string>(description: string, defaultKey: K) {
  return {
    type: "object",
    description,
    required: ["name"],
    properties: {
      name: {
        type: "string",
        description: "Name of the ConfigMap, in the namespace of the object that refers to it.",
        pattern: OBJECT_NAME_PATTERN,
        maxLength: 253,
      },
      key: {
        type: "string",
        description: `Key inside the ConfigMap. Omitted: ${defaultKey}.`,
        pattern: CONFIGMAP_KEY_PATTERN,
        maxLength: 253,
        default: defaultKey,
      },
    },
  } as const;
}

/** metav1.Condition, as every Kubernetes API spells it. */
export const conditionsSchema = {
  type: "array",
  description:
    "The latest observations of the object's state, one per type, each with the generation it was computed from.",
  "x-kubernetes-list-type": "map",
  "x-kubernetes-list-map-keys": ["type"],
  items: {
    type: "object",
    description: "One aspect of the object's state (metav1.Condition).",
    required: ["type", "status", "lastTransitionTime", "reason", "message"],
    properties: {
      type: {
        type: "string",
        description: "The aspect this condition is about, in CamelCase, e.g. Ready.",
        maxLength: 316,
        pattern:
          "^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$",
      },
      status: {
        type: "string",
        description: "Whether the condition holds: True, False or Unknown.",
        enum: ["True", "False", "Unknown"],
      },
      observedGeneration: {
        type: "integer",
        format: "int64",
        description: "The metadata.generation the condition was computed from.",
        minimum: 0,
      },
      lastTransitionTime: {
        type: "string",
        format: "date-time",
        description: "When the status last changed (not when the condition was last computed).",
      },
      reason: {
        type: "string",
        description: "A CamelCase word a program can switch on, e.g. TrainingFailed.",
        minLength: 1,
        maxLength: 1024,
        pattern: "^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$",
      },
      message: {
        type: "string",
        description: "What happened, for humans, with the numbers behind it.",
        maxLength: 32768,
      },
    },
  },
} as const satisfies JSONSchemaProps;

const metric = (description: string, min: number, max?: number) =>
  ({ type: "number", description, minimum: min, ...(max === undefined ? {} : { maximum: max }) }) as const;

/** The walk-forward backtest of the model's strategy, after costs (predictor's StrategyMetrics). */
export const strategyMetricsSchema = {
  type: "object",
  description:
    "The strategy's walk-forward backtest over the same rows, after transaction costs (docs/trading.md).",
  required: [
    "bars",
    "barsPerYear",
    "sharpe",
    "sortino",
    "maxDrawdown",
    "hitRate",
    "exposure",
    "turnover",
    "cumulativeReturn",
    "predictionCorrelation",
  ],
  properties: {
    bars: { type: "integer", description: "Bars traded.", minimum: 0 },
    barsPerYear: metric("Bars per calendar year observed over the rows: the annualization factor.", 0),
    sharpe: metric("Annualized Sharpe ratio of the per-bar returns after costs.", -1e9, 1e9),
    sortino: metric("Annualized Sortino ratio (downside deviation against 0) after costs.", -1e9, 1e9),
    maxDrawdown: metric("Largest fall of compounded equity from its running peak, as a fraction.", 0, 1),
    hitRate: metric("Share of the bars in the market that gained before costs.", 0, 1),
    exposure: metric("Share of the bars in the market.", 0, 1),
    turnover: metric("Mean absolute change of position per bar.", 0),
    cumulativeReturn: metric("Compounded return after costs over the rows.", -1e9, 1e9),
    predictionCorrelation: metric("Pearson correlation of predictions with the realized returns.", -1, 1),
  },
} as const satisfies JSONSchemaProps;

/** Holdout metrics as the trainer reports them (predictor's HoldoutMetrics). */
/** A number as `kubectl get` prints it, a few significant digits (operator/src/display.ts). */
export const readableNumber = (description: string) =>
  ({ type: "string", description: `${description}, to 4 significant digits.`, maxLength: 32 }) as const;

export const holdoutMetricsSchema = {
  type: "object",
  description: "Metrics on the time-ordered holdout the model never saw in training.",
  required: [
    "samples",
    "r2",
    "rmse",
    "mae",
    "directionalAccuracy",
    "informationCoefficient",
    "intervalCoverage",
  ],
  properties: {
    samples: {
      type: "integer",
      description: "Number of holdout rows the metrics are computed on.",
      minimum: 0,
    },
    r2: metric(
      "Coefficient of determination (R²) of the predicted forward returns; may be negative.",
      -1e9,
      1,
    ),
    rmse: metric("Root mean squared error of the predicted forward returns.", 0),
    mae: metric("Mean absolute error of the predicted forward returns.", 0),
    directionalAccuracy: metric(
      "Share of holdout rows where the predicted sign matches the realized one.",
      0,
      1,
    ),
    informationCoefficient: metric(
      "Spearman rank correlation between predictions and realized returns.",
      -1,
      1,
    ),
    intervalCoverage: metric("Share of holdout targets inside the prediction interval.", 0, 1),
    strategy: strategyMetricsSchema,
  },
} as const satisfies JSONSchemaProps;

/**
 * The root schema of a custom resource: apiVersion, kind, metadata (of which the apiserver lets a
 * CRD restrict only the name), spec and status.
 */
export function resourceSchema<
  const Spec extends JSONSchemaProps,
  const Status extends JSONSchemaProps,
  const Rules extends readonly ValidationRule[] = [],
>(input: {
  kind: string;
  description: string;
  name: { description: string; maxLength: number };
  spec: Spec;
  status: Status;
  rules?: Rules;
}) {
  return {
    type: "object",
    description: input.description,
    required: ["spec"],
    properties: {
      apiVersion: { type: "string", description: "trading.mlops.dev/v1alpha1." },
      kind: { type: "string", description: `${input.kind}.` },
      metadata: {
        type: "object",
        properties: {
          name: {
            type: "string",
            description: input.name.description,
            maxLength: input.name.maxLength,
            pattern: "^[a-z]([-a-z0-9]*[a-z0-9])?$",
          },
        },
      },
      spec: input.spec,
      status: input.status,
    },
    ...(input.rules ? { "x-kubernetes-validations": input.rules } : {}),
  } as const;
}

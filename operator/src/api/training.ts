import { SPEC_BOUNDS, schemaBounds } from "../../../predictor/src/bounds.ts";
import { REGIMES } from "../../../predictor/src/data/synthetic.ts";
import { NON_FINITE_POLICIES } from "../../../predictor/src/data/validate.ts";
import { SPEC_DEFAULTS } from "../../../predictor/src/train/spec.ts";
import { FEATURE_FORMS, FEATURE_NAME_PATTERN } from "./features.ts";
import { configMapKeyRef, resourceRequirements } from "./fragments.ts";
import type { JSONSchemaProps } from "./json-schema.ts";

/** API enum values are CamelCase (Kubernetes API conventions); the runtime spells them lowerCamel. */
export const toApiEnum = <const S extends string>(value: S) =>
  `${value.charAt(0).toUpperCase()}${value.slice(1)}` as Capitalize<S>;
export const toRuntimeEnum = <const S extends string>(value: S) =>
  `${value.charAt(0).toLowerCase()}${value.slice(1)}` as Uncapitalize<S>;

export const API_REGIMES = REGIMES.map(toApiEnum);

export const featuresSchema = {
  type: "array",
  description: `Model inputs, computed point-in-time from OHLCV bars, in this order. Forms: ${FEATURE_FORMS}; window parameters 1..9999.`,
  minItems: 1,
  maxItems: 64,
  "x-kubernetes-list-type": "set",
  items: {
    type: "string",
    description: "A feature name, e.g. ret_5 or sma_ratio_5_20.",
    maxLength: 40,
    pattern: FEATURE_NAME_PATTERN,
  },
} as const satisfies JSONSchemaProps;

export const targetSchema = {
  type: "object",
  description:
    "What the model predicts: the log return from the close of a bar to the close `horizon` bars later.",
  default: {},
  properties: {
    horizon: {
      type: "integer",
      description: "Bars ahead of the forward return. Omitted: 1.",
      ...schemaBounds(SPEC_BOUNDS["target.horizon"]),
      default: 1,
    },
  },
} as const satisfies JSONSchemaProps;

export const algorithmSchema = {
  type: "object",
  description: "The regression fitted on standardized features.",
  required: ["type"],
  properties: {
    type: {
      type: "string",
      description: "Linear: ordinary least squares. Ridge: least squares with an L2 penalty `alpha`.",
      enum: ["Linear", "Ridge"],
    },
    alpha: {
      type: "number",
      description:
        "Ridge penalty on the standardized coefficients; required with Ridge, not allowed with Linear.",
      ...schemaBounds(SPEC_BOUNDS["algorithm.alpha"]),
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "self.type != 'Ridge' || has(self.alpha)",
      message: "alpha is required when type is Ridge",
      fieldPath: ".alpha",
    },
    {
      rule: "self.type == 'Ridge' || !has(self.alpha)",
      message: "alpha is only allowed when type is Ridge",
      fieldPath: ".alpha",
    },
  ],
} as const satisfies JSONSchemaProps;

const syntheticSchema = {
  type: "object",
  description:
    "A seeded synthetic market with a known weak signal: the same seed gives the same bars everywhere.",
  required: ["seed"],
  properties: {
    seed: {
      type: "integer",
      description: "Seed of the generator.",
      ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.seed"]),
    },
    bars: {
      type: "integer",
      description: "Number of bars. Omitted: 50000.",
      ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.bars"]),
      default: 50000,
    },
    regime: {
      type: "string",
      description: "Market regime. Mixed alternates blocks of the other three. Omitted: Trending.",
      enum: API_REGIMES as readonly Capitalize<(typeof REGIMES)[number]>[],
      default: "Trending",
    },
    drift: {
      type: "object",
      description: "From bar `fromBar` on the market changes, to exercise drift detection.",
      required: ["fromBar"],
      properties: {
        fromBar: {
          type: "integer",
          description: "First bar of the changed market.",
          ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.drift.fromBar"]),
        },
        volatilityScale: {
          type: "number",
          description: "Multiplies return noise and bar ranges. Omitted: 2.5.",
          ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.drift.volatilityScale"]),
        },
        signalScale: {
          type: "number",
          description: "Multiplies the predictable component. Omitted: 0.",
          ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.drift.signalScale"]),
        },
        volumeScale: {
          type: "number",
          description: "Multiplies volume. Omitted: 3.",
          ...schemaBounds(SPEC_BOUNDS["training.data.synthetic.drift.volumeScale"]),
        },
      },
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.drift) || self.drift.fromBar < self.bars",
      message: "drift.fromBar must be below bars",
      fieldPath: ".drift.fromBar",
    },
  ],
} as const satisfies JSONSchemaProps;

const dataSchema = {
  type: "object",
  description: "Where the training bars come from: exactly one of synthetic, url, configMapRef.",
  properties: {
    synthetic: syntheticSchema,
    url: {
      type: "string",
      description: "An HTTP(S) URL of a CSV with columns ts, open, high, low, close, volume.",
      maxLength: 2048,
      pattern: "^https?://[^\\s]+$",
    },
    configMapRef: configMapKeyRef(
      "A CSV (columns ts, open, high, low, close, volume) in a ConfigMap of the model's namespace.",
      "bars.csv",
    ),
  },
  "x-kubernetes-validations": [
    {
      rule: "[has(self.synthetic), has(self.url), has(self.configMapRef)].filter(x, x).size() == 1",
      message: "exactly one of synthetic, url, configMapRef must be set",
    },
  ],
} as const satisfies JSONSchemaProps;

const strategySchema = {
  type: "object",
  description:
    "The trading strategy a version is backtested with on its holdout, and its served predictions are scored with (docs/trading.md): flat when |prediction| <= band, else sign(prediction) * positionLimit; costBps charged per unit of position traded.",
  default: {},
  properties: {
    band: {
      type: "number",
      description: `Predictions of at most this absolute return leave the position flat. Omitted: ${SPEC_DEFAULTS.strategy.band}.`,
      ...schemaBounds(SPEC_BOUNDS["training.strategy.band"]),
      default: SPEC_DEFAULTS.strategy.band,
    },
    positionLimit: {
      type: "number",
      description: `Size of a position as a fraction of capital (1: fully invested, long or short). Omitted: ${SPEC_DEFAULTS.strategy.positionLimit}.`,
      ...schemaBounds(SPEC_BOUNDS["training.strategy.positionLimit"]),
      default: SPEC_DEFAULTS.strategy.positionLimit,
    },
    costBps: {
      type: "number",
      description: `Transaction cost in basis points per unit of position traded (spread, fees, slippage). Omitted: ${SPEC_DEFAULTS.strategy.costBps}.`,
      ...schemaBounds(SPEC_BOUNDS["training.strategy.costBps"]),
      default: SPEC_DEFAULTS.strategy.costBps,
    },
  },
} as const satisfies JSONSchemaProps;

const gateSchema = {
  type: "object",
  description:
    "The offline gate a freshly trained version must pass on its holdout before it may serve. A failing version becomes Rejected and the stable version keeps serving.",
  default: {},
  properties: {
    minR2: {
      type: "number",
      description: "Least holdout R². Omitted: 0 (no worse than predicting the mean).",
      minimum: -1,
      maximum: 1,
      default: 0,
    },
    minDirectionalAccuracy: {
      type: "number",
      description: "Least share of holdout rows with the sign predicted right. Omitted: 0.5.",
      minimum: 0,
      maximum: 1,
      default: 0.5,
    },
    minInformationCoefficient: {
      type: "number",
      description: "Least Spearman correlation between predictions and realized returns. Omitted: no bound.",
      minimum: -1,
      maximum: 1,
    },
    compareWithChampion: {
      type: "boolean",
      description:
        "Also require the candidate to be no worse than the stable version on the same time-ordered holdout (R² and directional accuracy). Omitted: true.",
      default: true,
    },
    championTolerance: {
      type: "number",
      description: "How much worse than the champion, in each compared metric, still passes. Omitted: 0.",
      minimum: 0,
      maximum: 1,
      default: 0,
    },
    minSharpe: {
      type: "number",
      description:
        "Least annualized Sharpe ratio of the strategy after costs on the holdout. Omitted: 0 (a strategy that loses money after costs is rejected).",
      minimum: -1000,
      maximum: 1000,
      default: 0,
    },
    maxDrawdown: {
      type: "number",
      description:
        "Largest fall of the strategy's equity from its peak on the holdout, as a fraction (0.2: 20%). Omitted: no bound.",
      minimum: 0,
      exclusiveMinimum: true,
      maximum: 1,
    },
    championSharpeTolerance: {
      type: "number",
      description:
        "With compareWithChampion: require an annualized Sharpe after costs no lower than the champion's minus this, on the same holdout. Omitted: Sharpe is not compared (the comparison is still reported).",
      minimum: 0,
      maximum: 1000,
    },
  },
} as const satisfies JSONSchemaProps;

export const trainingSchema = {
  type: "object",
  description: "How versions are trained, when, and what a version must achieve to serve.",
  required: ["data"],
  properties: {
    data: dataSchema,
    holdoutFraction: {
      type: "number",
      description: `Share of the most recent rows held out, in time order, to judge the model. Omitted: ${SPEC_DEFAULTS.holdoutFraction}.`,
      ...schemaBounds(SPEC_BOUNDS["training.holdoutFraction"]),
      default: SPEC_DEFAULTS.holdoutFraction,
    },
    nonFinite: {
      type: "string",
      description: `What training does with a row holding NaN or Inf: Reject fails training naming the row and column; Drop drops the row and reports the count. Omitted: ${toApiEnum(SPEC_DEFAULTS.nonFinite)}.`,
      enum: NON_FINITE_POLICIES.map(toApiEnum),
      default: toApiEnum(SPEC_DEFAULTS.nonFinite),
    },
    minRows: {
      type: "integer",
      description: `Fewest valid rows training accepts. Omitted: ${SPEC_DEFAULTS.minRows}.`,
      ...schemaBounds(SPEC_BOUNDS["training.minRows"]),
      default: SPEC_DEFAULTS.minRows,
    },
    intervalLevel: {
      type: "number",
      description: `Nominal coverage of the prediction intervals, from holdout residual quantiles, at least 0.5 and below 1. Omitted: ${SPEC_DEFAULTS.intervalLevel}.`,
      ...schemaBounds(SPEC_BOUNDS["training.intervalLevel"]),
      default: SPEC_DEFAULTS.intervalLevel,
    },
    walkForward: {
      type: "object",
      description: "Also report walk-forward metrics over expanding training windows.",
      required: ["folds"],
      properties: {
        folds: {
          type: "integer",
          description: "Number of walk-forward folds.",
          ...schemaBounds(SPEC_BOUNDS["training.walkForward.folds"]),
        },
      },
    },
    strategy: strategySchema,
    gate: gateSchema,
    schedule: {
      type: "string",
      description:
        "Retrain on a cron schedule (five fields, or @daily and friends), in `timeZone`. Omitted: no schedule.",
      maxLength: 128,
      pattern:
        "^(@(yearly|annually|monthly|weekly|daily|midnight|hourly)|([0-9A-Za-z*?/,-]+[ \\t]+){4}[0-9A-Za-z*?/,-]+)$",
    },
    timeZone: {
      type: "string",
      description: "IANA time zone of `schedule`, e.g. America/New_York. Omitted: UTC.",
      maxLength: 64,
      pattern: "^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$",
    },
    retrainRequest: {
      type: "string",
      description:
        "Set to a new value (a timestamp, a ticket) to train a new version with an unchanged spec; the operator records the last value it acted on.",
      maxLength: 63,
    },
    backoffLimit: {
      type: "integer",
      description: "Retries of a failed training pod before the version fails. Omitted: 2.",
      minimum: 0,
      maximum: 10,
      default: 2,
    },
    activeDeadlineSeconds: {
      type: "integer",
      description: "Wall-clock limit of one training, retries included. Omitted: 900.",
      minimum: 30,
      maximum: 86400,
      default: 900,
    },
    resources: resourceRequirements("Resources of the training container.", {
      requests: { cpu: "500m", memory: "512Mi" },
      limits: { cpu: "2", memory: "2Gi" },
    }),
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.timeZone) || has(self.schedule)",
      message: "timeZone requires schedule",
      fieldPath: ".timeZone",
    },
  ],
} as const satisfies JSONSchemaProps;

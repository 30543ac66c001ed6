import {
  configMapKeyRef,
  holdoutMetricsSchema,
  readableNumber,
  resourceSchema,
  SHA256_PATTERN,
} from "./fragments.ts";
import type { JSONSchemaProps } from "./json-schema.ts";
import { MAX_MODEL_NAME_LENGTH } from "./tradingmodel.ts";
import { algorithmSchema, featuresSchema, targetSchema } from "./training.ts";

export const STAGES = ["Development", "Staging", "Production", "Archived", "Rejected"] as const;

const sha256 = (description: string) =>
  ({ type: "string", description: `${description} Lower-case hex.`, pattern: SHA256_PATTERN }) as const;

export const modelVersionSpecSchema = {
  type: "object",
  description: "The version's lineage and artifact. Immutable: a retrained model is a new ModelVersion.",
  required: ["model", "version", "dataSha256", "codeVersion", "params", "artifact"],
  properties: {
    model: {
      type: "string",
      description: "Name of the TradingModel, in the same namespace, this is a version of.",
      maxLength: MAX_MODEL_NAME_LENGTH,
      pattern: "^[a-z]([-a-z0-9]*[a-z0-9])?$",
    },
    version: { type: "integer", description: "Version number, from 1, increasing per model.", minimum: 1 },
    dataSha256: sha256("sha256 of the training bars as the trainer read them."),
    codeVersion: {
      type: "string",
      description: "Version of the trainer that produced the artifact.",
      maxLength: 128,
    },
    params: {
      type: "object",
      description: "The training inputs the artifact was trained with.",
      required: ["features", "target", "algorithm", "holdoutFraction", "trainingHash"],
      properties: {
        features: featuresSchema,
        target: targetSchema,
        algorithm: algorithmSchema,
        holdoutFraction: { type: "number", description: "Share of rows held out.", minimum: 0, maximum: 1 },
        trainingHash: {
          type: "string",
          description:
            "Hash of the TradingModel's training inputs (spec fields and retrainRequest) this version was trained for.",
          maxLength: 64,
        },
      },
    },
    artifact: {
      type: "object",
      description: "Where the trained model is stored, and its checksum.",
      required: ["configMapRef", "sha256", "sizeBytes"],
      properties: {
        configMapRef: configMapKeyRef("The immutable ConfigMap holding the artifact JSON.", "artifact.json"),
        sha256: sha256("sha256 of the artifact's canonical JSON, as the predictor verifies it on load."),
        sizeBytes: { type: "integer", description: "Size of the artifact file in bytes.", minimum: 1 },
      },
    },
    parentVersion: {
      type: "integer",
      description:
        "The stable version when this one was trained: its champion. Omitted for the first version.",
      minimum: 1,
    },
  },
  "x-kubernetes-validations": [{ rule: "self == oldSelf", message: "spec is immutable" }],
} as const satisfies JSONSchemaProps;

const stageSchema = { type: "string", description: "Lifecycle stage.", enum: STAGES } as const;

export const modelVersionStatusSchema = {
  type: "object",
  description: "The version's holdout results and lifecycle.",
  properties: {
    stage: {
      ...stageSchema,
      description:
        "Development (trained, not judged), Staging (passed the gate, rolling out), Production (serving), Archived (replaced), Rejected (failed the gate or the rollout).",
    },
    metrics: holdoutMetricsSchema,
    display: {
      type: "object",
      description:
        "The holdout metrics as `kubectl get mv` prints them; `metrics` keeps them in full precision.",
      properties: {
        directionalAccuracy: readableNumber("Holdout directional accuracy"),
        r2: readableNumber("Holdout R²"),
        sharpe: readableNumber("Annualized Sharpe ratio of the strategy after costs on the holdout"),
      },
    },
    championComparison: {
      type: "object",
      description: "The candidate against the stable version on the same time-ordered holdout.",
      required: ["championVersion", "metrics"],
      properties: {
        championVersion: { type: "integer", description: "The stable version compared with.", minimum: 1 },
        metrics: holdoutMetricsSchema,
        strategyComparison: {
          type: "object",
          description:
            "Candidate minus champion in mean strategy return per bar on the same holdout, tested with a Newey-West standard error that allows for autocorrelation (docs/trading.md).",
          required: ["meanDifference", "standardError", "pValue", "effectiveSamples", "samples", "bandwidth"],
          properties: {
            meanDifference: {
              type: "number",
              description: "Mean of candidate minus champion return per bar.",
              minimum: -1e9,
              maximum: 1e9,
            },
            standardError: {
              type: "number",
              description: "Newey-West standard error of that mean.",
              minimum: 0,
            },
            pValue: {
              type: "number",
              description: "Two-sided p-value of no difference.",
              minimum: 0,
              maximum: 1,
            },
            effectiveSamples: {
              type: "number",
              description: "Independent bars worth the same information as the autocorrelated ones.",
              minimum: 0,
            },
            samples: { type: "integer", description: "Bars compared.", minimum: 0 },
            bandwidth: { type: "number", description: "Bartlett kernel bandwidth, in bars.", minimum: 0 },
          },
        },
      },
    },
    gate: {
      type: "object",
      description: "The offline gate's verdict.",
      required: ["passed", "message"],
      properties: {
        passed: { type: "boolean", description: "Whether the version passed." },
        message: { type: "string", description: "Each check with its numbers.", maxLength: 4096 },
      },
    },
    stageHistory: {
      type: "array",
      description: "Every stage change, oldest first.",
      maxItems: 32,
      "x-kubernetes-list-type": "atomic",
      items: {
        type: "object",
        description: "One stage change.",
        required: ["stage", "reason", "time"],
        properties: {
          stage: stageSchema,
          reason: { type: "string", description: "CamelCase reason, e.g. GatePassed.", maxLength: 128 },
          message: { type: "string", description: "Why, with the numbers.", maxLength: 4096 },
          time: { type: "string", format: "date-time", description: "When the stage changed." },
        },
      },
    },
  },
} as const satisfies JSONSchemaProps;

export const modelVersionSchema = resourceSchema({
  kind: "ModelVersion",
  description:
    "A trained version of a TradingModel: the registry entry with its lineage, artifact, metrics and stage.",
  name: { description: "<spec.model>-v<spec.version>.", maxLength: 63 },
  spec: modelVersionSpecSchema,
  status: modelVersionStatusSchema,
  rules: [
    {
      // Written so the apiserver's cost estimate stays bounded: concatenating string(int) does not.
      rule: "self.metadata.name.startsWith(self.spec.model + '-v') && self.metadata.name.substring(self.spec.model.size() + 2) == string(self.spec.version)",
      message: "metadata.name must be <spec.model>-v<spec.version>",
    },
  ],
}) satisfies JSONSchemaProps;

export const modelVersionPrinterColumns = [
  { name: "Model", type: "string", jsonPath: ".spec.model", description: "The TradingModel." },
  { name: "Version", type: "integer", jsonPath: ".spec.version", description: "Version number." },
  { name: "Stage", type: "string", jsonPath: ".status.stage", description: "Lifecycle stage." },
  {
    name: "DirAcc",
    type: "string",
    jsonPath: ".status.display.directionalAccuracy",
    description: "Holdout directional accuracy.",
  },
  { name: "R2", type: "string", jsonPath: ".status.display.r2", description: "Holdout R²." },
  {
    name: "Sharpe",
    type: "string",
    jsonPath: ".status.display.sharpe",
    priority: 1,
    description: "Annualized Sharpe ratio of the strategy after costs on the holdout.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  {
    name: "Parent",
    type: "integer",
    jsonPath: ".spec.parentVersion",
    priority: 1,
    description: "Champion when trained.",
  },
  {
    name: "Data",
    type: "string",
    jsonPath: ".spec.dataSha256",
    priority: 1,
    description: "sha256 of the training data.",
  },
  {
    name: "Gate",
    type: "string",
    jsonPath: ".status.gate.message",
    priority: 1,
    description: "The gate's verdict.",
  },
] as const;

import { duration, resourceRequirements } from "./fragments.ts";
import type { JSONSchemaProps } from "./json-schema.ts";

/** Canary weights used when strategy is Canary and `canary` is omitted. */
export const DEFAULT_CANARY_STEPS = [10, 25, 50, 100] as const;

export const servingSchema = {
  type: "object",
  description: "The predictor Deployment that serves the stable version.",
  default: {},
  properties: {
    replicas: {
      type: "integer",
      description: "Predictor pods; with autoscaling, the count it starts from. Omitted: 2.",
      minimum: 1,
      maximum: 100,
      default: 2,
    },
    resources: resourceRequirements("Resources of the predictor container.", {
      requests: { cpu: "100m", memory: "128Mi" },
      limits: { cpu: "1", memory: "256Mi" },
    }),
    autoscaling: {
      type: "object",
      description:
        "Scale the predictor on CPU with a HorizontalPodAutoscaler. Omitted: a fixed replica count.",
      required: ["maxReplicas"],
      properties: {
        minReplicas: {
          type: "integer",
          description: "Fewest pods. Omitted: 1.",
          minimum: 1,
          maximum: 100,
          default: 1,
        },
        maxReplicas: { type: "integer", description: "Most pods.", minimum: 1, maximum: 100 },
        targetCPUUtilizationPercentage: {
          type: "integer",
          description: "Average CPU use, in percent of requests, the autoscaler aims at. Omitted: 70.",
          minimum: 1,
          maximum: 100,
          default: 70,
        },
      },
      "x-kubernetes-validations": [
        {
          rule: "self.minReplicas <= self.maxReplicas",
          message: "minReplicas must not exceed maxReplicas",
          fieldPath: ".minReplicas",
        },
      ],
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "!has(self.autoscaling) || (self.replicas >= self.autoscaling.minReplicas && self.replicas <= self.autoscaling.maxReplicas)",
      message: "replicas must lie within autoscaling.minReplicas..maxReplicas",
      fieldPath: ".replicas",
    },
  ],
} as const satisfies JSONSchemaProps;

export const rolloutSchema = {
  type: "object",
  description: "How a version that passed the offline gate replaces the stable one.",
  default: {},
  properties: {
    strategy: {
      type: "string",
      description:
        "Canary: shift traffic in `canary.steps`, analysing each step. BlueGreen: bring the new version up beside the old and switch at once. Shadow: the new version gets a mirror of the stable version's live requests for `shadow.duration`, answers no client, and replaces stable if it passes. Canary and BlueGreen start with that shadow phase when `shadow` is set. Omitted: Canary.",
      enum: ["Canary", "BlueGreen", "Shadow"],
      default: "Canary",
    },
    canary: {
      type: "object",
      description: "Canary settings; only with strategy Canary.",
      properties: {
        steps: {
          type: "array",
          description: `Traffic weights in percent, strictly increasing, each in 1..100. Omitted: ${DEFAULT_CANARY_STEPS.join(", ")}.`,
          minItems: 1,
          maxItems: 20,
          "x-kubernetes-list-type": "set",
          items: {
            type: "integer",
            description: "Percent of traffic on the canary.",
            minimum: 1,
            maximum: 100,
          },
          default: DEFAULT_CANARY_STEPS,
          "x-kubernetes-validations": [
            {
              rule: "self.isSorted()",
              message: "steps must be strictly increasing",
            },
          ],
        },
      },
    },
    blueGreen: {
      type: "object",
      description: "Blue-green settings; only with strategy BlueGreen.",
      properties: {
        autoPromote: {
          type: "boolean",
          description:
            "Switch traffic as soon as the preview analysis of the new version passes; false waits for `rollout.promoteVersion` naming it. Omitted: true.",
          default: true,
        },
        scaleDownDelaySeconds: {
          type: "integer",
          description:
            "How long the old version stays up at full size after the switch while the post-promotion analysis runs (at least one analysis interval), for an instant way back. Omitted: 30.",
          minimum: 0,
          maximum: 3600,
          default: 30,
        },
      },
    },
    shadow: {
      type: "object",
      description:
        "A phase in which the new version gets a mirror of the stable version's live requests and answers no client, judged on its agreement with stable (analysis.signAgreement, analysis.meanAbsDiff), latency, errors and drift: the whole rollout with strategy Shadow (required then), the first phase with Canary or BlueGreen.",
      required: ["duration"],
      properties: {
        duration: duration(
          "How long the shadow phase lasts at least: it ends once this has passed and a measurement passed every check.",
          { min: "10s", max: "24h" },
          {},
        ),
      },
    },
    traffic: {
      type: "string",
      description:
        "How traffic is split. Replicas: by the ratio of ready pods behind one Service. GatewayAPI: by weights on an HTTPRoute. Omitted: Replicas.",
      enum: ["Replicas", "GatewayAPI"],
      default: "Replicas",
    },
    paused: {
      type: "boolean",
      description:
        "Hold the rollout at its current step (traffic and replicas unchanged, no analysis) until set back to false. Omitted: false.",
      default: false,
    },
    promoteVersion: {
      type: "integer",
      description:
        "Canary: promote this candidate version now, skipping its remaining steps and analysis. BlueGreen: switch the Service to it now (the post-promotion analysis still runs). Acts only while that version is the candidate; a value naming another version does nothing.",
      minimum: 1,
    },
    abortVersion: {
      type: "integer",
      description:
        "Abort the rollout of this candidate version: all traffic back to stable, the candidate scaled down and its ModelVersion Rejected with reason Aborted. Acts only while that version is the candidate.",
      minimum: 1,
    },
    rollbackToVersion: {
      type: "integer",
      description:
        "Serve this earlier (Archived) version again, rolled out through the strategy like a new candidate, without retraining. Acts once per value: set another value, or remove the field and set it again, to act again.",
      minimum: 1,
    },
  },
  "x-kubernetes-validations": [
    {
      rule: "self.strategy == 'Canary' || !has(self.canary)",
      message: "canary is only allowed with strategy Canary",
      fieldPath: ".canary",
    },
    {
      rule: "self.strategy == 'BlueGreen' || !has(self.blueGreen)",
      message: "blueGreen is only allowed with strategy BlueGreen",
      fieldPath: ".blueGreen",
    },
    {
      // has() first: the apiserver also checks the rule against this object's default ({}), where
      // strategy is not set yet.
      rule: "has(self.shadow) || !has(self.strategy) || self.strategy != 'Shadow'",
      message:
        "strategy Shadow needs shadow.duration: how long the new version is judged on mirrored requests",
      fieldPath: ".shadow",
    },
  ],
} as const satisfies JSONSchemaProps;

/** The agreement checks compare a shadow with stable: without a shadow phase nothing is compared. */
export const agreementNeedsShadowPhase = (["signAgreement", "meanAbsDiff"] as const).map((check) => ({
  rule: `!has(self.analysis) || !has(self.analysis.${check}) || (has(self.rollout) && (self.rollout.strategy == 'Shadow' || has(self.rollout.shadow)))`,
  message: `analysis.${check} compares a shadow with stable: it needs rollout.strategy Shadow or rollout.shadow`,
  fieldPath: `.analysis.${check}`,
}));

const atLeast = (description: string) =>
  ({
    type: "object",
    description,
    required: ["min"],
    properties: {
      min: { type: "number", description: "The least value that passes, 0..1.", minimum: 0, maximum: 1 },
    },
  }) as const;

const atMost = (description: string, max: number) =>
  ({
    type: "object",
    description,
    required: ["max"],
    properties: {
      max: { type: "number", description: `The most that passes, 0..${max}.`, minimum: 0, maximum: max },
    },
  }) as const;

export const analysisSchema = {
  type: "object",
  description: "Live checks of a new version against Prometheus while it rolls out; a breach rolls it back.",
  default: {},
  properties: {
    interval: duration(
      "Time between two measurements. Omitted: 30s.",
      { min: "1s", max: "1h" },
      { default: "30s" },
    ),
    minSamples: {
      type: "integer",
      description: "Predictions with feedback a measurement needs to count. Omitted: 100.",
      minimum: 1,
      maximum: 1000000,
      default: 100,
    },
    onNoData: {
      type: "string",
      description:
        "What a measurement with too few samples counts as: Wait (inconclusive), Fail, or Pass. Omitted: Wait.",
      enum: ["Wait", "Fail", "Pass"],
      default: "Wait",
    },
    failureLimit: {
      type: "integer",
      description:
        "Failed measurements tolerated in one rollout; one more rolls back. Omitted: 1 (0 rolls back on the first failed measurement).",
      minimum: 0,
      maximum: 100,
      default: 1,
    },
    window: duration(
      "How far back each measurement looks (the PromQL range). Omitted: 1m.",
      { min: "5s", max: "24h" },
      { default: "1m" },
    ),
    noDataLimit: {
      type: "integer",
      description:
        "With onNoData Wait: measurements in a row without enough data (or with Prometheus unreachable) tolerated before the rollout fails. Omitted: 10.",
      minimum: 1,
      maximum: 1000,
      default: 10,
    },
    accuracyVsStable: {
      type: "object",
      description:
        "Compare the candidate's directional accuracy with stable's over the same window (a one-sided two-proportion z-test): fail when the candidate is worse at this confidence. Each side needs minSamples.",
      required: ["confidence"],
      properties: {
        confidence: {
          type: "number",
          description: "Confidence of 'candidate is worse', e.g. 0.95.",
          minimum: 0.5,
          maximum: 0.9999,
        },
      },
    },
    accuracy: atLeast("Directional accuracy (0..1) of the new version's predictions with feedback."),
    signAgreement: atLeast(
      "Shadow phase only: share (0..1) of mirrored requests where the new version predicts the same sign as stable. Needs at least minSamples compared predictions.",
    ),
    meanAbsDiff: atMost(
      "Shadow phase only: mean absolute difference between the new version's and stable's predictions (returns) on mirrored requests.",
      1,
    ),
    latencyP95Ms: atMost("95th percentile request latency of the new version, in milliseconds.", 60000),
    errorRate: atMost("Share (0..1) of the new version's requests answered with an error.", 1),
    strategyReturnBps: {
      type: "object",
      description:
        "Mean return per trade of the model's trading strategy after costs (the artifact's strategy: position from the prediction's sign outside the band, cost per unit of turnover; docs/trading.md), scored from /v1/feedback outcomes of the new version, in basis points. Each measurement needs minSamples outcomes.",
      required: ["min"],
      properties: {
        min: {
          type: "number",
          description:
            "The least mean return per trade that passes, in basis points (0: must not lose money after costs).",
          minimum: -10000,
          maximum: 10000,
        },
      },
    },
    drift: {
      type: "object",
      description: "Feature drift of live requests against the training distribution.",
      required: ["psiMax"],
      properties: {
        psiMax: {
          type: "number",
          description:
            "Largest population stability index of any feature that passes (0.1 moderate, 0.25 large).",
          minimum: 0,
          maximum: 10,
        },
      },
    },
  },
} as const satisfies JSONSchemaProps;

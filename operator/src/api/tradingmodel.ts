import { analysisSchema, rolloutSchema, servingSchema } from "./delivery.ts";
import { conditionsSchema, readableNumber, resourceSchema } from "./fragments.ts";
import type { JSONSchemaProps } from "./json-schema.ts";
import { monitoringSchema, scalingLimitNeedsAutoscaling } from "./monitoring.ts";
import { algorithmSchema, featuresSchema, targetSchema, trainingSchema } from "./training.ts";

/**
 * Child object names are `<model>-train-v<N>`, `<model>-artifact-v<N>` and `<model>-predictor`;
 * 40 characters leave room for the longest suffix within the 63-character label and Service limit.
 */
export const MAX_MODEL_NAME_LENGTH = 40;

export const tradingModelSpecSchema = {
  type: "object",
  description: "What to predict, how to train and judge it, and how to serve and roll out new versions.",
  required: ["features", "algorithm", "training"],
  properties: {
    features: featuresSchema,
    target: targetSchema,
    algorithm: algorithmSchema,
    training: trainingSchema,
    serving: servingSchema,
    rollout: rolloutSchema,
    analysis: analysisSchema,
    monitoring: monitoringSchema,
    versionHistoryLimit: {
      type: "integer",
      description:
        "ModelVersions (and their artifacts) kept; older ones are deleted, never the stable or candidate version. Omitted: 5.",
      minimum: 2,
      maximum: 100,
      default: 5,
    },
  },
  "x-kubernetes-validations": [scalingLimitNeedsAutoscaling],
} as const satisfies JSONSchemaProps;

const versionNumber = (description: string) => ({ type: "integer", description, minimum: 1 }) as const;

export const PHASES = ["Pending", "Training", "Progressing", "Ready", "Degraded", "Failed"] as const;

export const ROLLOUT_PHASES = [
  "Progressing",
  "Paused",
  "Promoting",
  "Succeeded",
  "RolledBack",
  "Aborted",
] as const;
export const CHECK_NAMES = [
  "accuracy",
  "accuracyVsStable",
  "latencyP95Ms",
  "errorRate",
  "drift",
  "strategyReturnBps",
] as const;
export const VERDICTS = ["Passed", "Failed", "NoData"] as const;

const timestamp = (description: string) => ({ type: "string", format: "date-time", description }) as const;
const count = (description: string) => ({ type: "integer", description, minimum: 0 }) as const;

export const rolloutStatusSchema = {
  type: "object",
  description:
    "The rollout of the latest candidate, kept after it ends until the next one starts. A restarted operator resumes from it.",
  required: ["version", "strategy", "phase", "stepIndex", "startedAt"],
  properties: {
    version: versionNumber("The candidate version rolled out."),
    fromVersion: versionNumber("The stable version when the rollout started."),
    strategy: { type: "string", description: "Canary or BlueGreen.", enum: ["Canary", "BlueGreen"] },
    phase: {
      type: "string",
      description:
        "Progressing (steps and analysis running), Paused (spec.rollout.paused, or waiting for a manual blue-green switch), Promoting (the stable Deployment is moving to the candidate), Succeeded, RolledBack (analysis failed), Aborted (spec.rollout.abortVersion).",
      enum: ROLLOUT_PHASES,
    },
    stepIndex: count("Index of the step in progress in `steps`, from 0."),
    steps: {
      type: "array",
      description: "The traffic weights (percent) of this rollout, as planned when it started.",
      items: {
        type: "integer",
        description: "Percent of traffic on the candidate.",
        minimum: 0,
        maximum: 100,
      },
      maxItems: 20,
    },
    desiredWeight: {
      type: "integer",
      description: "Percent of traffic the step asks for.",
      minimum: 0,
      maximum: 100,
    },
    weight: {
      type: "integer",
      description:
        "Percent of traffic on the candidate in effect: its share of the ready pods behind the Service.",
      minimum: 0,
      maximum: 100,
    },
    minWeight: {
      type: "integer",
      description:
        "Smallest weight the Replicas router can reach with this many stable pods: 1 / (stable + 1).",
      minimum: 0,
      maximum: 100,
    },
    stableReplicas: count("Stable pods the router asks for (never fewer than before the rollout)."),
    candidateReplicas: count("Candidate pods the router asks for."),
    startedAt: timestamp("When the rollout started."),
    stepStartedAt: timestamp(
      "When the current step's weight took effect; analysis of the step counts from here.",
    ),
    lastAnalysisAt: timestamp("When the latest measurement was taken."),
    measurementsInStep: count("Measurements taken during the current step."),
    failures: count("Failed measurements in this rollout (compared with analysis.failureLimit)."),
    consecutiveNoData: count(
      "Measurements in a row without enough data (compared with analysis.noDataLimit).",
    ),
    finishedAt: timestamp("When the rollout ended."),
    message: { type: "string", description: "The latest decision, with its numbers.", maxLength: 2048 },
    analysis: {
      type: "array",
      description: "The latest measurement, one entry per check.",
      maxItems: 10,
      items: {
        type: "object",
        description: "One check's verdict on the latest measurement.",
        required: ["check", "verdict", "threshold", "window", "message"],
        properties: {
          check: { type: "string", description: "Which check.", enum: CHECK_NAMES },
          verdict: { type: "string", description: "Passed, Failed or NoData.", enum: VERDICTS },
          value: {
            type: "number",
            description: "The measured value (for accuracyVsStable, the p-value).",
            minimum: 0,
          },
          threshold: { type: "number", description: "The limit it was held to.", minimum: 0 },
          samples: count("Samples behind the value (predictions with feedback, or requests)."),
          stableValue: {
            type: "number",
            description: "Stable's value over the same window, where compared.",
            minimum: 0,
          },
          window: { type: "string", description: "The PromQL range.", maxLength: 32 },
          message: { type: "string", description: "The verdict in words.", maxLength: 512 },
        },
      },
    },
  },
} as const satisfies JSONSchemaProps;

export const tradingModelStatusSchema = {
  type: "object",
  description: "Where the model stands, as the operator last observed it.",
  properties: {
    phase: {
      type: "string",
      description:
        "Summary for humans: Pending, Training, Progressing (a version is rolling out), Ready, Degraded (serving, but something failed), Failed (nothing serves).",
      enum: PHASES,
    },
    observedGeneration: {
      type: "integer",
      format: "int64",
      description: "The metadata.generation this status was computed from.",
      minimum: 0,
    },
    conditions: conditionsSchema,
    stableVersion: versionNumber("Version serving all traffic (ModelVersion stage Production)."),
    candidateVersion: versionNumber("Version being rolled out (ModelVersion stage Staging)."),
    latestVersion: versionNumber("Highest version number trained or in training."),
    canaryWeight: {
      type: "integer",
      description: "Percent of traffic on the candidate.",
      minimum: 0,
      maximum: 100,
    },
    currentStep: {
      type: "integer",
      description: "Index of the canary step in progress, from 0.",
      minimum: 0,
    },
    metrics: {
      type: "object",
      description: "The latest live measurement of the serving version(s).",
      properties: {
        accuracy: {
          type: "number",
          description: "Directional accuracy of predictions with feedback, 0..1.",
          minimum: 0,
          maximum: 1,
        },
        latencyP95Ms: {
          type: "number",
          description: "95th percentile request latency in milliseconds.",
          minimum: 0,
        },
        errorRate: {
          type: "number",
          description: "Share of requests answered with an error, 0..1.",
          minimum: 0,
          maximum: 1,
        },
        samples: { type: "integer", description: "Predictions with feedback behind `accuracy`.", minimum: 0 },
        measuredAt: { type: "string", format: "date-time", description: "When the measurement was taken." },
      },
    },
    display: {
      type: "object",
      description:
        "The live measurement as `kubectl get tm` prints it; `metrics` keeps it in full precision.",
      properties: {
        accuracy: readableNumber("Live directional accuracy"),
        latencyP95Ms: readableNumber("Live p95 latency, ms"),
        errorRate: readableNumber("Live error rate"),
      },
    },
    training: {
      type: "object",
      description: "The latest training Job.",
      required: ["version", "jobName", "state"],
      properties: {
        version: versionNumber("Version the Job trains."),
        jobName: { type: "string", description: "Name of the training Job.", maxLength: 63 },
        state: {
          type: "string",
          description: "Running, Succeeded or Failed.",
          enum: ["Running", "Succeeded", "Failed"],
        },
        startTime: { type: "string", format: "date-time", description: "When the Job started." },
        completionTime: { type: "string", format: "date-time", description: "When the Job finished." },
        message: {
          type: "string",
          description: "The trainer's own error message when it failed.",
          maxLength: 4096,
        },
        trainingHash: {
          type: "string",
          description:
            "Hash of the training inputs (spec fields and retrainRequest) the Job was started for.",
          maxLength: 64,
        },
        championVersion: {
          type: "integer",
          description: "The stable version the Job judged the candidate against.",
          minimum: 1,
        },
      },
    },
    lastTrainedGeneration: {
      type: "integer",
      format: "int64",
      description: "The metadata.generation whose training inputs the latest version was trained from.",
      minimum: 0,
    },
    lastScheduleTime: {
      type: "string",
      format: "date-time",
      description: "When spec.training.schedule last started a training.",
    },
    rollout: rolloutStatusSchema,
    rollbackToVersionHandled: versionNumber(
      "The spec.rollout.rollbackToVersion value already acted on; cleared when the field is removed.",
    ),
    lastRetrainRequest: {
      type: "string",
      description: "The spec.training.retrainRequest value the latest training acted on.",
      maxLength: 63,
    },
    message: {
      type: "string",
      description: "One line on the latest decision, with its numbers.",
      maxLength: 4096,
    },
  },
} as const satisfies JSONSchemaProps;

export const tradingModelSchema = resourceSchema({
  kind: "TradingModel",
  description:
    "A trading model: the operator trains it in a Job, registers each version as a ModelVersion, serves the best one and rolls out its successors.",
  name: {
    description: `A DNS-1035 label of at most ${MAX_MODEL_NAME_LENGTH} characters: the names of the model's objects append to it.`,
    maxLength: MAX_MODEL_NAME_LENGTH,
  },
  spec: tradingModelSpecSchema,
  status: tradingModelStatusSchema,
}) satisfies JSONSchemaProps;

export const tradingModelPrinterColumns = [
  { name: "Phase", type: "string", jsonPath: ".status.phase", description: "Where the model stands." },
  {
    name: "Stable",
    type: "integer",
    jsonPath: ".status.stableVersion",
    description: "Version serving traffic.",
  },
  {
    name: "Candidate",
    type: "integer",
    jsonPath: ".status.candidateVersion",
    description: "Version rolling out.",
  },
  {
    name: "Weight",
    type: "integer",
    jsonPath: ".status.canaryWeight",
    description: "Percent of traffic on the candidate.",
  },
  {
    name: "Accuracy",
    type: "string",
    jsonPath: ".status.display.accuracy",
    description: "Live directional accuracy.",
  },
  {
    name: "P95",
    type: "string",
    jsonPath: ".status.display.latencyP95Ms",
    description: "Live p95 latency, ms.",
  },
  { name: "Age", type: "date", jsonPath: ".metadata.creationTimestamp" },
  {
    name: "Errors",
    type: "string",
    jsonPath: ".status.display.errorRate",
    priority: 1,
    description: "Live share of requests answered with an error.",
  },
  {
    name: "Strategy",
    type: "string",
    jsonPath: ".spec.rollout.strategy",
    priority: 1,
    description: "Rollout strategy.",
  },
  {
    name: "Training",
    type: "string",
    jsonPath: ".status.training.state",
    priority: 1,
    description: "Latest training Job.",
  },
  {
    name: "Message",
    type: "string",
    jsonPath: ".status.message",
    priority: 1,
    description: "The latest decision.",
  },
] as const;

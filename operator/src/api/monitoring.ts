import { duration } from "./fragments.ts";
import type { JSONSchemaProps } from "./json-schema.ts";

/**
 * Durations Prometheus and CEL both read: whole hours, minutes and seconds in that order (1h30m,
 * 2m, 45s). Prometheus refuses Go's fractions (1.5m) and its ms/us/ns units in a rule's `for`.
 */
export const PROMETHEUS_DURATION_PATTERN = "^(([0-9]+h)([0-9]+m)?([0-9]+s)?|([0-9]+m)([0-9]+s)?|[0-9]+s)$";

const promDuration = (description: string, bounds: { min: string; max: string }) =>
  duration(description, bounds, {}, { pattern: PROMETHEUS_DURATION_PATTERN, name: "Whole h, m and s" });

/** How long a condition must hold before its alert fires (the rule's `for`). */
const forDuration = promDuration("How long the condition must hold before the alert fires.", {
  min: "0s",
  max: "24h",
});

function alert<const T extends Record<string, JSONSchemaProps>>(description: string, threshold: T) {
  return {
    type: "object",
    description,
    properties: { ...threshold, for: forDuration },
  } as const;
}

const number = (description: string, minimum: number, maximum: number) =>
  ({ type: "number", description, minimum, maximum }) as const;

/**
 * The seeds' thresholds, used for every field left out of `monitoring.alerts`. They live here
 * rather than as schema defaults so that an alert the user did not write (scalingLimit without
 * autoscaling) stays absent from the stored object.
 */
export const DEFAULT_ALERTS = {
  latencyP95Ms: { threshold: 25, for: "2m" },
  errorRate: { threshold: 0.01, for: "1m" },
  accuracy: { threshold: 0.6, for: "5m", minSamples: 100 },
  noData: { for: "5m" },
  cpuUtilization: { threshold: 0.8, for: "5m" },
  dataAgeSeconds: { threshold: 30, for: "1m" },
  confidence: { threshold: 0.7, for: "10m" },
  featureDrift: { threshold: 0.25, for: "15m" },
  retrainDue: { after: "720h", for: "1h" },
  scalingLimit: { threshold: 0.9, for: "10m" },
} as const;

const d = DEFAULT_ALERTS;

export const monitoringSchema = {
  type: "object",
  description:
    "The model's PrometheusRule (alerts) and scrape configuration. Omitted: every alert at its default threshold (docs/monitoring.md).",
  properties: {
    runbookBaseUrl: {
      type: "string",
      description:
        "Where docs/monitoring.md is served; each alert's runbook_url is this plus the alert's anchor. Omitted: docs/monitoring.md.",
      maxLength: 2048,
      default: "docs/monitoring.md",
    },
    ruleLabels: {
      type: "object",
      description:
        "Extra labels on the PrometheusRule, for the ruleSelector of the Prometheus that should load it (e.g. release: kube-prometheus-stack).",
      maxProperties: 16,
      additionalProperties: { type: "string", description: "A label value.", maxLength: 63 },
    },
    alerts: {
      type: "object",
      description: "Per-alert thresholds and durations; a field left out keeps its default.",
      properties: {
        latencyP95Ms: alert(
          `Critical: p95 prediction latency of a track above the threshold. Omitted: ${d.latencyP95Ms.threshold} ms for ${d.latencyP95Ms.for}.`,
          {
            threshold: {
              type: "number",
              description: "Milliseconds, above 0.",
              exclusiveMinimum: true,
              minimum: 0,
              maximum: 60000,
            },
          },
        ),
        errorRate: alert(
          `Critical: share of prediction requests answered 5xx above the threshold. Omitted: ${d.errorRate.threshold} for ${d.errorRate.for}.`,
          {
            threshold: number("Share of requests, 0..1.", 0, 1),
          },
        ),
        accuracy: alert(
          `Critical: directional accuracy from feedback over 10 minutes below the threshold. Omitted: ${d.accuracy.threshold} for ${d.accuracy.for}, at least ${d.accuracy.minSamples} feedbacks.`,
          {
            threshold: number("Share of hits, 0..1.", 0, 1),
            minSamples: {
              type: "integer",
              description: "Feedbacks in the 10-minute window the alert needs.",
              minimum: 1,
              maximum: 1000000,
            },
          },
        ),
        // Its `for` is the window of increase(): Prometheus refuses an empty one, and a window
        // shorter than two scrapes holds no increase at all (the alert would always fire).
        noData: {
          type: "object",
          description: `Critical: the model predicted nothing (no traffic, or no predictor scraped). Omitted: for ${d.noData.for}.`,
          properties: {
            for: promDuration(
              "The window without any prediction that fires the alert; at least two scrape intervals.",
              { min: "10s", max: "24h" },
            ),
          },
        },
        cpuUtilization: alert(
          `Warning: a predictor pod's CPU above the threshold share of its CPU limit (its request when no limit is set). Omitted: ${d.cpuUtilization.threshold} for ${d.cpuUtilization.for}.`,
          {
            threshold: number("Share of the limit, 0..1.", 0, 1),
          },
        ),
        dataAgeSeconds: alert(
          `Warning: the newest bar the predictor saw is older than the threshold. Omitted: ${d.dataAgeSeconds.threshold} s for ${d.dataAgeSeconds.for}.`,
          {
            threshold: {
              type: "number",
              description: "Seconds, above 0.",
              exclusiveMinimum: true,
              minimum: 0,
              maximum: 31536000,
            },
          },
        ),
        confidence: alert(
          `Warning: mean prediction confidence over 10 minutes below the threshold. Omitted: ${d.confidence.threshold} for ${d.confidence.for}.`,
          {
            threshold: number("Probability of the predicted sign, 0..1.", 0, 1),
          },
        ),
        featureDrift: alert(
          `Warning: a feature's PSI against training above the threshold. Omitted: ${d.featureDrift.threshold} for ${d.featureDrift.for}.`,
          {
            threshold: number("Population stability index (0.1 moderate, 0.25 large).", 0, 10),
          },
        ),
        retrainDue: alert(
          `Info: the newest version was trained longer ago than \`after\`. Omitted: after ${d.retrainDue.after}, for ${d.retrainDue.for}.`,
          {
            after: promDuration("Age of the newest training that makes a retrain due.", {
              min: "1h",
              max: "8760h",
            }),
          },
        ),
        scalingLimit: alert(
          `Info, only with serving.autoscaling: ready stable pods at or above the threshold share of maxReplicas. Omitted: ${d.scalingLimit.threshold} for ${d.scalingLimit.for}.`,
          {
            threshold: number("Share of maxReplicas, 0..1.", 0, 1),
          },
        ),
      },
    },
  },
} as const satisfies JSONSchemaProps;

/** A spec-level rule: the scaling-limit alert needs a scaling limit. */
export const scalingLimitNeedsAutoscaling = {
  rule: "!has(self.monitoring) || !has(self.monitoring.alerts) || !has(self.monitoring.alerts.scalingLimit) || has(self.serving.autoscaling)",
  message:
    "monitoring.alerts.scalingLimit needs serving.autoscaling: a fixed replica count has no scaling limit",
  fieldPath: ".monitoring.alerts.scalingLimit",
} as const;

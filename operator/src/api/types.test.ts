import { describe, expect, expectTypeOf, it } from "vitest";
import type { HoldoutMetrics as RuntimeHoldoutMetrics } from "../../../predictor/src/artifact.ts";
import type { JSONSchemaProps } from "./json-schema.ts";
import { admit } from "./local-admission.ts";
import { modelVersionSchema } from "./modelversion.ts";
import { tradingModelSchema } from "./tradingmodel.ts";
import type {
  HoldoutMetrics,
  ModelVersionSpec,
  ModelVersionStatus,
  TradingModelSpec,
  TradingModelSpecInput,
  TradingModelStatus,
} from "./types.ts";

/**
 * Drift between the schema and the TypeScript types is caught twice:
 * - at compile time (tsc runs this file): the samples below are typed with the API types, so a
 *   field the types lack is an excess-property error and a wrong type is an assignment error;
 * - at run time: every sample must pass the schema (no unknown field, every value allowed), and
 *   together the samples must set every field the schema has, so a schema field the types do not
 *   know is a coverage failure here.
 */

const metrics = {
  samples: 1000,
  r2: 0.012,
  rmse: 0.002,
  mae: 0.0015,
  directionalAccuracy: 0.531,
  informationCoefficient: 0.07,
  intervalCoverage: 0.9,
  strategy: {
    bars: 1000,
    barsPerYear: 525960,
    sharpe: 1.4,
    sortino: 2.1,
    maxDrawdown: 0.08,
    hitRate: 0.52,
    exposure: 0.9,
    turnover: 0.3,
    cumulativeReturn: 0.04,
    predictionCorrelation: 0.06,
  },
};

const syntheticCanary: TradingModelSpecInput = {
  features: ["ret_1", "sma_ratio_5_20", "hl_range"],
  target: { horizon: 2 },
  algorithm: { type: "Ridge", alpha: 0.5 },
  training: {
    data: {
      synthetic: {
        seed: 3,
        bars: 20000,
        regime: "HighVolatility",
        drift: { fromBar: 15000, volatilityScale: 2, signalScale: 0, volumeScale: 3 },
      },
    },
    holdoutFraction: 0.3,
    nonFinite: "Drop",
    minRows: 1000,
    intervalLevel: 0.8,
    walkForward: { folds: 3 },
    strategy: { band: 0.0002, positionLimit: 0.5, costBps: 3 },
    gate: {
      minR2: -0.01,
      minDirectionalAccuracy: 0.51,
      minInformationCoefficient: 0.01,
      compareWithChampion: false,
      championTolerance: 0.01,
      minSharpe: 0.5,
      maxDrawdown: 0.2,
      championSharpeTolerance: 0.3,
    },
    schedule: "0 22 * * 1-5",
    timeZone: "Europe/Zurich",
    retrainRequest: "2026-11-24T09:00:00Z",
    backoffLimit: 1,
    activeDeadlineSeconds: 600,
    resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: 1, memory: "1Gi" } },
  },
  serving: {
    replicas: 3,
    resources: { requests: { cpu: "100m", memory: "64Mi" }, limits: { cpu: "500m", memory: "128Mi" } },
    autoscaling: { minReplicas: 2, maxReplicas: 6, targetCPUUtilizationPercentage: 60 },
  },
  rollout: {
    strategy: "Canary",
    canary: { steps: [1, 10, 100] },
    shadow: { duration: "1m30s" },
    traffic: "GatewayAPI",
    paused: true,
    promoteVersion: 4,
    abortVersion: 5,
    rollbackToVersion: 2,
  },
  analysis: {
    interval: "15s",
    minSamples: 50,
    onNoData: "Fail",
    failureLimit: 2,
    window: "2m",
    noDataLimit: 5,
    accuracyVsStable: { confidence: 0.9 },
    accuracy: { min: 0.5 },
    latencyP95Ms: { max: 10 },
    errorRate: { max: 0.02 },
    drift: { psiMax: 0.25 },
    strategyReturnBps: { min: 0 },
  },
  monitoring: {
    runbookBaseUrl: "https://runbooks.example/tradingmodel.md",
    ruleLabels: { release: "kube-prometheus-stack" },
    alerts: {
      latencyP95Ms: { threshold: 40, for: "3m" },
      errorRate: { threshold: 0.02, for: "2m" },
      accuracy: { threshold: 0.55, for: "10m", minSamples: 200 },
      noData: { for: "10m" },
      cpuUtilization: { threshold: 0.9, for: "10m" },
      dataAgeSeconds: { threshold: 120, for: "2m" },
      confidence: { threshold: 0.55, for: "30m" },
      featureDrift: { threshold: 0.1, for: "1h" },
      retrainDue: { after: "168h", for: "1h30m" },
      scalingLimit: { threshold: 0.8, for: "15m" },
    },
  },
  versionHistoryLimit: 4,
};

const urlBlueGreen: TradingModelSpecInput = {
  features: ["zscore_20"],
  algorithm: { type: "Linear" },
  training: { data: { url: "https://data.example/bars.csv" } },
  rollout: { strategy: "BlueGreen", blueGreen: { autoPromote: false, scaleDownDelaySeconds: 120 } },
};

const configMapData: TradingModelSpecInput = {
  features: ["rsi_14"],
  algorithm: { type: "Linear" },
  training: { data: { configMapRef: { name: "spy-bars", key: "2025.csv" } } },
};

const status: TradingModelStatus = {
  phase: "Progressing",
  observedGeneration: 4,
  conditions: [
    {
      type: "Ready",
      status: "True",
      observedGeneration: 4,
      lastTransitionTime: "2026-11-24T09:00:00Z",
      reason: "StableAvailable",
      message: "v2: 3/3 pods ready",
    },
  ],
  stableVersion: 2,
  candidateVersion: 3,
  latestVersion: 3,
  canaryWeight: 25,
  currentStep: 1,
  metrics: {
    accuracy: 0.53,
    latencyP95Ms: 4.2,
    errorRate: 0,
    samples: 400,
    measuredAt: "2026-11-24T09:01:00Z",
  },
  display: { accuracy: "0.53", latencyP95Ms: "4.2", errorRate: "0" },
  training: {
    version: 3,
    jobName: "spy-train-v3",
    state: "Succeeded",
    startTime: "2026-11-24T08:58:00Z",
    completionTime: "2026-11-24T08:59:00Z",
    message: "trained",
    trainingHash: "abc123",
    championVersion: 2,
  },
  lastTrainedGeneration: 4,
  lastRetrainRequest: "r1",
  lastScheduleTime: "2026-11-24T02:30:00Z",
  rollbackToVersionHandled: 1,
  rollout: {
    version: 3,
    fromVersion: 2,
    strategy: "Canary",
    phase: "Progressing",
    stepIndex: 1,
    steps: [10, 25, 50, 100],
    desiredWeight: 25,
    weight: 25,
    minWeight: 25,
    stableReplicas: 3,
    candidateReplicas: 1,
    startedAt: "2026-11-24T09:00:00Z",
    stepStartedAt: "2026-11-24T09:00:40Z",
    lastAnalysisAt: "2026-11-24T09:01:00Z",
    measurementsInStep: 1,
    failures: 0,
    consecutiveNoData: 0,
    finishedAt: "2026-11-24T09:05:00Z",
    message: "analysis of v3 at 25% passed",
    analysis: [
      {
        check: "accuracyVsStable",
        verdict: "Passed",
        value: 0.31,
        threshold: 0.05,
        samples: 400,
        stableValue: 0.55,
        window: "1m",
        message: "not significantly worse",
      },
    ],
  },
  message: "v3 at 25%",
};

const versionSpec: ModelVersionSpec = {
  model: "spy",
  version: 3,
  dataSha256: "c".repeat(64),
  codeVersion: "0.1.0",
  params: {
    features: ["ret_1"],
    target: { horizon: 1 },
    algorithm: { type: "Ridge", alpha: 1 },
    holdoutFraction: 0.2,
    trainingHash: "abc123",
  },
  artifact: {
    configMapRef: { name: "spy-artifact-v3", key: "artifact.json" },
    sha256: "d".repeat(64),
    sizeBytes: 4096,
  },
  parentVersion: 2,
};

const versionStatus: ModelVersionStatus = {
  stage: "Staging",
  metrics,
  display: { directionalAccuracy: "0.55", r2: "0.012", sharpe: "1.2" },
  championComparison: {
    championVersion: 2,
    metrics,
    strategyComparison: {
      meanDifference: -1e-6,
      standardError: 2e-6,
      pValue: 0.61,
      effectiveSamples: 410.5,
      samples: 1000,
      bandwidth: 4.2,
    },
  },
  gate: { passed: true, message: "directional accuracy 0.531 >= 0.5" },
  stageHistory: [{ stage: "Staging", reason: "GatePassed", message: "passed", time: "2026-11-24T09:00:00Z" }],
};

const tradingModel = (name: string, spec: TradingModelSpecInput, withStatus?: TradingModelStatus) => ({
  apiVersion: "trading.mlops.dev/v1alpha1",
  kind: "TradingModel",
  metadata: { name, namespace: "default" },
  spec,
  ...(withStatus ? { status: withStatus } : {}),
});

function setPaths(value: unknown, path: string, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const item of value) setPaths(item, `${path}[]`, out);
  } else if (value && typeof value === "object") {
    for (const [k, v] of Object.entries(value)) {
      out.add(`${path}.${k}`);
      setPaths(v, `${path}.${k}`, out);
    }
  }
}

function schemaPaths(schema: JSONSchemaProps, path: string, out: string[]): string[] {
  for (const [k, child] of Object.entries(schema.properties ?? {})) {
    if (k === "metadata" || k === "apiVersion" || k === "kind") continue;
    out.push(`${path}.${k}`);
    schemaPaths(child, `${path}.${k}`, out);
  }
  if (schema.items) schemaPaths(schema.items, `${path}[]`, out);
  return out;
}

describe("API types and schema", () => {
  const tradingModels = [
    tradingModel("synthetic-canary", syntheticCanary, status),
    tradingModel("url-bluegreen", urlBlueGreen),
    tradingModel("configmap-data", configMapData),
  ];
  const modelVersions = [
    {
      apiVersion: "trading.mlops.dev/v1alpha1",
      kind: "ModelVersion",
      metadata: { name: "spy-v3" },
      spec: versionSpec,
      status: versionStatus,
    },
  ];

  it.each([
    ["TradingModel", tradingModelSchema, tradingModels],
    ["ModelVersion", modelVersionSchema, modelVersions],
  ] as const)(
    "%s: samples typed with the TS types pass the schema and cover every field",
    (_k, schema, samples) => {
      const seen = new Set<string>();
      for (const sample of samples) {
        expect(admit(schema, sample).errors).toEqual([]);
        setPaths(sample, "", seen);
      }
      expect(schemaPaths(schema, "", []).filter((p) => !seen.has(p))).toEqual([]);
    },
  );

  it("makes defaulted fields present in what the operator reads, optional in what users write", () => {
    expectTypeOf<TradingModelSpec["rollout"]["strategy"]>().toEqualTypeOf<"Canary" | "BlueGreen">();
    expectTypeOf<TradingModelSpec["training"]["gate"]["minDirectionalAccuracy"]>().toEqualTypeOf<number>();
    expectTypeOf<TradingModelSpecInput["rollout"]>().toEqualTypeOf<
      TradingModelSpecInput["rollout"] | undefined
    >();
    expectTypeOf<TradingModelSpec["serving"]["autoscaling"]>().toEqualTypeOf<
      { minReplicas: number; maxReplicas: number; targetCPUUtilizationPercentage: number } | undefined
    >();
    const defaulted = admit(tradingModelSchema, tradingModel("d", configMapData)).object as {
      spec: TradingModelSpec;
    };
    expect(defaulted.spec.training.gate.minDirectionalAccuracy).toBe(0.5);
    expect(defaulted.spec.rollout.canary).toBeUndefined();
  });

  it("records holdout metrics exactly as the runtime reports them", () => {
    expectTypeOf<HoldoutMetrics>().toEqualTypeOf<RuntimeHoldoutMetrics>();
  });

  it("refuses values the schema refuses, at compile time", () => {
    // @ts-expect-error Lasso is not in the algorithm enum
    const algorithm: TradingModelSpecInput["algorithm"] = { type: "Lasso" };
    // @ts-expect-error stages are an enum
    const stage: ModelVersionStatus["stage"] = "Live";
    // @ts-expect-error replicas is an integer, not a string
    const serving: TradingModelSpecInput["serving"] = { replicas: "2" };
    expect([algorithm, stage, serving]).toHaveLength(3);
  });
});

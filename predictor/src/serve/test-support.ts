import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import inject, { type InjectOptions, type Response } from "light-my-request";
import pino from "pino";
import { type ArtifactFile, type ModelArtifact, parseArtifact, serializeArtifact } from "../artifact.ts";
import type { Bar } from "../bars.ts";
import { buildPredictor, type Predictor, type PredictorOptions } from "./app.ts";
import { parseServeConfig, type ServeConfig } from "./config.ts";

/** Features of the test model, a mix that needs a window of 5 bars. */
export const TEST_FEATURES = ["ret_1", "ret_5", "hl_range"];

/**
 * A small hand-made model for serve tests (until and alongside `predictor train`):
 * y = 0.001 + 0.002 * z(ret_1) - 0.001 * z(ret_5) + 0.0005 * z(hl_range), interval [-0.01, +0.012].
 */
export function testArtifact(overrides: Partial<ModelArtifact> = {}): ModelArtifact {
  const decileEdges = (lo: number, step: number) => Array.from({ length: 9 }, (_, i) => lo + i * step);
  const metrics = {
    samples: 100,
    r2: 0.1,
    rmse: 0.01,
    mae: 0.008,
    directionalAccuracy: 0.55,
    informationCoefficient: 0.1,
    intervalCoverage: 0.9,
  };
  return {
    schemaVersion: 1,
    features: TEST_FEATURES,
    target: { kind: "forwardReturn", horizon: 1 },
    algorithm: { type: "linear" },
    coefficients: { intercept: 0.001, weights: [0.002, -0.001, 0.0005] },
    scaler: { mean: [0, 0, 0.02], std: [0.01, 0.02, 0.01] },
    interval: { level: 0.9, lower: -0.01, upper: 0.012 },
    reference: {
      ret_1: { edges: decileEdges(-0.012, 0.003), proportions: Array(10).fill(0.1) },
      ret_5: { edges: decileEdges(-0.024, 0.006), proportions: Array(10).fill(0.1) },
      hl_range: { edges: decileEdges(0.008, 0.003), proportions: Array(10).fill(0.1) },
    },
    split: { trainRows: 400, holdoutRows: 100, gapRows: 1, holdoutFraction: 0.2 },
    metrics,
    data: { sha256: "0".repeat(64), rows: 501, droppedRows: 0, firstTs: 0, lastTs: 500 },
    codeVersion: "test",
    ...overrides,
  };
}

export function testArtifactFile(overrides: Partial<ModelArtifact> = {}): ArtifactFile {
  return parseArtifact(serializeArtifact(testArtifact(overrides)));
}

/** Writes the test artifact into `dir`; returns its path and sha256. */
export async function writeTestArtifact(
  dir: string,
  overrides: Partial<ModelArtifact> = {},
): Promise<{ path: string; sha256: string }> {
  const path = join(dir, "artifact.json");
  const text = serializeArtifact(testArtifact(overrides));
  await writeFile(path, text);
  return { path, sha256: parseArtifact(text).sha256 };
}

/** The config the operator would give a stable pod, with `env` on top. */
export function testConfig(env: Record<string, string> = {}): ServeConfig {
  return parseServeConfig(
    { MODEL_NAME: "demo", MODEL_VERSION: "v1", ARTIFACT_PATH: "/unused/artifact.json", ...env },
    [],
  );
}

export interface TestPredictor extends Predictor {
  /** A request through the server's listener, without a socket: every route, as a client sees it. */
  inject(options: InjectOptions | string): Promise<Response>;
}

/** A predictor app with the test model loaded (unless `load` is false), logging nothing. */
export function testPredictor(
  env: Record<string, string> = {},
  { load = true, ...options }: Partial<Omit<PredictorOptions, "config" | "log">> & { load?: boolean } = {},
): TestPredictor {
  const predictor = buildPredictor({ config: testConfig(env), log: pino({ level: "silent" }), ...options });
  if (load) predictor.state.load(testArtifactFile());
  return {
    ...predictor,
    inject: async (options) => {
      await predictor.app.ready();
      return inject(predictor.listener, options);
    },
  };
}

/** `count` bars with a gentle up-trend, one a minute. */
export function testBars(count: number): Bar[] {
  return Array.from({ length: count }, (_, i) => {
    const close = 100 * Math.exp(0.001 * i + 0.002 * Math.sin(i));
    return {
      ts: 1_700_000_000_000 + i * 60_000,
      open: close * 0.999,
      high: close * 1.003,
      low: close * 0.996,
      close,
      volume: 1000 + i,
    };
  });
}

/**
 * Sum of the samples of `name` in a Prometheus text exposition whose labels include `labels`;
 * undefined when there is no such series.
 */
export function metricValue(
  exposition: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let sum: number | undefined;
  for (const line of exposition.split("\n")) {
    const m = /^([a-zA-Z_:][\w:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const seriesLabels = Object.fromEntries(
      [...(m[2] ?? "").matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => seriesLabels[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

export async function scrape(predictor: TestPredictor): Promise<string> {
  return (await predictor.inject({ url: "/metrics" })).body;
}

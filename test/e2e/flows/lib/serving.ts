// What clients of a served model see: its predictor pods and answers through its Service.

import { readyPods } from "../../support/pods.ts";
import { openService } from "../../support/service.ts";
import { waitFor } from "../../support/wait.ts";

const REQUEST_TIMEOUT_MS = 10_000;

export type Prediction = {
  prediction: number;
  interval: { lower: number; upper: number; level: number };
  predictionId: string;
  model: string;
  modelVersion: string;
  track: string;
};

export type ServedPod = { name: string; uid: string; version: string };

/** The model's ready predictor pods, by name, with the version each serves. */
export async function servedPods(namespace: string, model: string): Promise<ServedPod[]> {
  const selector = `trading.mlops.dev/model=${model},trading.mlops.dev/component=predictor`;
  return (await readyPods(namespace, selector))
    .map((p) => ({
      name: p.metadata?.name ?? "",
      uid: p.metadata?.uid ?? "",
      version: p.metadata?.labels?.["trading.mlops.dev/version"] ?? "",
    }))
    .sort((a, b) => a.name.localeCompare(b.name));
}

async function call<T>(address: string, path: string, body?: unknown): Promise<T> {
  const res = await fetch(`http://${address}${path}`, {
    method: body === undefined ? "GET" : "POST",
    headers: body === undefined ? {} : { "content-type": "application/json" },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${path} answered ${res.status}: ${text}`);
  return JSON.parse(text) as T;
}

/** A row of feature values by name, the same for every call so that answers can be compared. */
export function featureRow(features: readonly string[]): Record<string, number> {
  return Object.fromEntries(features.map((f, i) => [f, 0.001 * (i + 1) * (i % 2 === 0 ? 1 : -1)]));
}

/**
 * `count` predictions through the model's Service (each on a new connection, so the Service
 * balances them over its pods). The first waits until the Service answers at all.
 */
export async function predictThroughService(
  namespace: string,
  service: string,
  features: readonly string[],
  count: number,
): Promise<{ answers: Prediction[]; model: { artifactSha256: string; features: string[] } }> {
  const endpoint = await openService(namespace, service, "http");
  try {
    const body = { features: featureRow(features) };
    const first = await waitFor(
      `a prediction through Service ${namespace}/${service} (${endpoint.address})`,
      () => call<Prediction>(endpoint.address, "/v1/predict", body),
      { timeoutMs: 60_000, intervalMs: 1_000 },
    );
    const answers = [first];
    for (let i = 1; i < count; i++)
      answers.push(await call<Prediction>(endpoint.address, "/v1/predict", body));
    const model = await call<{ artifactSha256: string; features: string[] }>(endpoint.address, "/v1/model");
    return { answers, model };
  } finally {
    endpoint.close();
  }
}

// TradingModels as the flows apply them, and what a user reads back: the objects, their conditions,
// and the tables `kubectl get tm` / `kubectl get mv` print.
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { parse } from "yaml";
import type { TradingModelStatus } from "../../../../operator/src/api/types.ts";
import { apply, getJson, kubectl } from "../../support/kubectl.ts";
import { type WaitOptions, waitFor } from "../../support/wait.ts";

const repoRoot = resolve(import.meta.dirname, "../../../..");

export type Condition = {
  type: string;
  status: string;
  reason: string;
  message: string;
  observedGeneration?: number;
};

export type TradingModel = {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace: string; generation?: number; uid?: string };
  spec: Record<string, unknown> & { training: Record<string, unknown>; features: string[] };
  status?: {
    phase?: string;
    observedGeneration?: number;
    stableVersion?: number;
    latestVersion?: number;
    conditions?: Condition[];
    training?: { version: number; state: string; jobName: string; message?: string };
    candidateVersion?: number;
    canaryWeight?: number;
    rollout?: TradingModelStatus["rollout"];
  };
};

export type Metrics = {
  samples: number;
  r2: number;
  directionalAccuracy: number;
  informationCoefficient: number;
  intervalCoverage: number;
};

export type ModelVersion = {
  metadata: { name: string; ownerReferences?: { kind: string; name: string }[] };
  spec: {
    model: string;
    version: number;
    dataSha256: string;
    parentVersion?: number;
    artifact: { sha256: string; configMapRef: { name: string } };
  };
  status?: {
    stage?: string;
    metrics?: Metrics;
    gate?: { passed: boolean; message: string };
    stageHistory?: { stage: string; reason: string; message: string }[];
  };
};

/**
 * An example from examples/, moved into the test's namespace, without its training schedule: a
 * run crossing the scheduled time would start a training the test did not ask for.
 */
export async function exampleModel(file: string, namespace: string): Promise<TradingModel> {
  const model = parse(await readFile(resolve(repoRoot, "examples", file), "utf8")) as TradingModel;
  model.metadata.namespace = namespace;
  delete model.spec.training.schedule;
  delete model.spec.training.timeZone;
  return model;
}

export async function applyModel(model: TradingModel): Promise<void> {
  await apply(model);
}

/** A JSON merge patch of the model's spec, as a user's `kubectl patch --type=merge` would send. */
export async function patchSpec(
  namespace: string,
  name: string,
  spec: Record<string, unknown>,
): Promise<void> {
  await kubectl(["patch", "tm", name, "-n", namespace, "--type=merge", "-p", JSON.stringify({ spec })]);
}

export function getModel(namespace: string, name: string): Promise<TradingModel> {
  return getJson<TradingModel>(["tm", name, "-n", namespace]);
}

export async function modelVersions(namespace: string): Promise<ModelVersion[]> {
  return (await getJson<{ items: ModelVersion[] }>(["mv", "-n", namespace])).items;
}

export function condition(model: TradingModel, type: string): Condition | undefined {
  return model.status?.conditions?.find((c) => c.type === type);
}

/** Waits until the model's status, written for its current generation, satisfies `accept`. */
export function waitForModel(
  namespace: string,
  name: string,
  what: string,
  accept: (model: TradingModel) => boolean,
  options: WaitOptions = {},
): Promise<TradingModel> {
  let seen = "";
  return waitFor(
    `${namespace}/${name}: ${what}`,
    async () => {
      const model = await getModel(namespace, name);
      seen = `phase ${model.status?.phase}, conditions ${JSON.stringify(model.status?.conditions?.map((c) => [c.type, c.status, c.reason, c.message]))}`;
      if (model.status?.observedGeneration !== model.metadata.generation) return undefined;
      if (accept(model)) return model;
      throw new Error(seen);
    },
    { intervalMs: 1_000, ...options },
  );
}

/** Waits until the model is Ready with `version` as its stable version. */
export function waitForStable(
  namespace: string,
  name: string,
  version: number,
  timeoutMs: number,
): Promise<TradingModel> {
  return waitForModel(
    namespace,
    name,
    `Ready with stable v${version}`,
    (m) => m.status?.phase === "Ready" && m.status.stableVersion === version,
    { timeoutMs },
  );
}

export function waitForVersion(
  namespace: string,
  name: string,
  what: string,
  accept: (version: ModelVersion) => boolean,
  options: WaitOptions = {},
): Promise<ModelVersion> {
  return waitFor(
    `ModelVersion ${namespace}/${name}: ${what}`,
    async () => {
      const version = await getJson<ModelVersion>(["mv", name, "-n", namespace]);
      if (accept(version)) return version;
      throw new Error(`stage ${version.status?.stage}, gate ${version.status?.gate?.message}`);
    },
    { intervalMs: 1_000, ...options },
  );
}

/**
 * The rows of a table kubectl printed, as header → cell. Cells are cut at the header's columns,
 * because an empty cell (no candidate yet) leaves no token to split on.
 */
export function parseTable(text: string): Record<string, string>[] {
  const [header, ...lines] = text.split("\n").filter((l) => l.trim() !== "");
  if (!header) return [];
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index }));
  return lines.map((line) =>
    Object.fromEntries(
      starts.map((column, i) => [
        column.name,
        line.slice(column.at, starts[i + 1]?.at ?? line.length).trim(),
      ]),
    ),
  );
}

/** `kubectl get <resource>` (wide or not), parsed. */
export async function table(
  namespace: string,
  resource: string,
  wide = false,
): Promise<Record<string, string>[]> {
  return parseTable(await kubectl(["get", resource, "-n", namespace, ...(wide ? ["-o", "wide"] : [])]));
}

/** The notes of the Events of one reason in the namespace. */
export async function eventNotes(namespace: string, reason: string): Promise<string[]> {
  const events = await getJson<{ items: { reason?: string; note?: string }[] }>([
    "events.events.k8s.io",
    "-n",
    namespace,
  ]);
  return events.items.filter((e) => e.reason === reason).map((e) => e.note ?? "");
}

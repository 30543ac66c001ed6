// What the rollout scenarios share: the operator for a test file, a model quick to train, versions
// brought in by a spec change, what the model's Services route to, and clients under continuous
// load that keep every outcome, so a test can say exactly which requests failed and how.
import { Agent } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect } from "vitest";
import type { Bar } from "../../../predictor/src/bars.ts";
import { generateBars } from "../../../predictor/src/data/synthetic.ts";
import { FeatureWindow } from "../../../predictor/src/features.ts";
import {
  applyModel,
  eventNotes,
  exampleModel,
  type ModelVersion,
  modelVersions,
  patchSpec,
  type TradingModel,
  waitForModel,
  waitForStable,
} from "../flows/lib/models.ts";
import { featureRow } from "../flows/lib/serving.ts";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { e2eContext } from "../support/context.ts";
import { getJson } from "../support/kubectl.ts";
import { type Outcome, post } from "../support/load.ts";
import { useNamespace } from "../support/namespace.ts";
import { pods } from "../support/pods.ts";
import { openService, type ServiceEndpoint } from "../support/service.ts";
import { waitFor } from "../support/wait.ts";

export const MODEL = "spy-momentum";
/** A training of 3,000 bars and its predictor pods on a loaded 2-core machine. */
export const TRAINED_MS = 4 * 60_000;
const REQUEST_TIMEOUT_MS = 5_000;

export type Rollout = NonNullable<NonNullable<TradingModel["status"]>["rollout"]>;

/** Checks a candidate passes unless made to fail: p95 latency and error rate over a short window. */
export const LIVE_CHECKS = {
  interval: "5s",
  window: "15s",
  minSamples: 20,
  onNoData: "Wait",
  noDataLimit: 12,
  failureLimit: 0,
  latencyP95Ms: { max: 200 },
  errorRate: { max: 0.05 },
};

type ModelSpec = {
  rollout: Record<string, unknown>;
  analysis: Record<string, unknown>;
  serving?: Record<string, unknown>;
  /** Bars of the trending market v1 is trained on: 3,000 (seconds to train) unless said. */
  bars?: number;
};

/**
 * The example model, trained on the trending market (3,000 bars unless `bars` says otherwise),
 * with 2 stable pods unless `serving` says otherwise, and the rollout and analysis given.
 */
async function quickModel(namespace: string, spec: ModelSpec): Promise<TradingModel> {
  const model = await exampleModel("spy-momentum.yaml", namespace);
  model.spec.training = {
    ...model.spec.training,
    data: { synthetic: { seed: 42, bars: spec.bars ?? 3000, regime: "Trending" } },
  };
  model.spec.serving = spec.serving ?? { replicas: 2 };
  model.spec.rollout = spec.rollout;
  model.spec.analysis = spec.analysis;
  return model;
}

/**
 * A test file's setting: its namespace, an operator watching it (pointed at the cluster's
 * Prometheus, killed after the file), and v1 of a quick model serving alone before the tests.
 */
export function useServedModel(prefix: string, spec: ModelSpec, trainedMs = TRAINED_MS) {
  const ns = useNamespace(prefix);
  let operator: OperatorProcess | undefined;
  let started = 0;
  let features: string[] = [];
  const startOne = () => {
    const { prometheusUrl } = e2eContext();
    expect(prometheusUrl).not.toBe("");
    started += 1;
    operator = startOperator({
      identity: `op-${prefix}-${started}`,
      leaseNamespace: ns.name,
      watchNamespace: ns.name,
      args: [`--prometheus-url=${prometheusUrl}`],
    });
  };
  beforeAll(async () => {
    await installCrds();
    startOne();
    const model = await quickModel(ns.name, spec);
    features = model.spec.features;
    await applyModel(model);
    await waitForStable(ns.name, MODEL, 1, trainedMs);
  }, trainedMs);
  afterAll(async () => {
    if (operator) await stopOperator(operator, "SIGKILL");
  });
  return {
    namespace: ns.name,
    /** The model's features, once the setup ran. */
    get features(): readonly string[] {
      return features;
    },
    /** A client of predictions through the model's Service. */
    predictions(load: PredictionLoad = {}): Promise<Client & { service: ServiceEndpoint }> {
      return clientOn(ns.name, MODEL, (address) => predictions(address, features, load));
    },
    /**
     * A client of predictions, 10 a second, through a blue-green candidate's preview Service from
     * the moment its preview pods are all ready (after its shadow phase, if it has one).
     */
    async preview(version: number): Promise<Client> {
      await waitForRollout(
        ns.name,
        version,
        "ready behind its preview Service",
        (r) => r.shadowPhase !== "Running" && r.stepStartedAt !== undefined,
        trainedMs,
      );
      const v = `v${version}`;
      const preview = `${MODEL}-preview`;
      await waitForServiceVersions(ns.name, preview, [v, v]);
      return await clientOn(ns.name, preview, (address) => predictions(address, features, { perSecond: 10 }));
    },
    /** Kills the operator where it stands (SIGKILL) and starts another, which has only the API to go on. */
    async replaceOperator(): Promise<void> {
      if (operator) await stopOperator(operator, "SIGKILL");
      startOne();
    },
  };
}

/** Asks for version `version` (a retrain request named after it, plus any other spec change). */
export async function requestVersion(
  namespace: string,
  version: number,
  spec: Record<string, unknown> = {},
): Promise<void> {
  const training = (spec.training ?? {}) as Record<string, unknown>;
  await patchSpec(namespace, MODEL, { ...spec, training: { ...training, retrainRequest: `v${version}` } });
}

/** Waits until the rollout of `version` satisfies `accept`. */
export function waitForRollout(
  namespace: string,
  version: number,
  what: string,
  accept: (rollout: Rollout, model: TradingModel) => boolean,
  timeoutMs = 90_000,
): Promise<TradingModel> {
  return waitForModel(
    namespace,
    MODEL,
    `v${version}: ${what}`,
    (m) => m.status?.rollout?.version === version && accept(m.status.rollout, m),
    { timeoutMs, intervalMs: 250 },
  );
}

export async function modelVersion(namespace: string, version: number): Promise<ModelVersion | undefined> {
  return (await modelVersions(namespace)).find((v) => v.spec.version === version);
}

/** The notes of the Events of `reason` on the TradingModel (each is on its ModelVersion too). */
export function modelEvents(namespace: string, reason: string): Promise<string[]> {
  return eventNotes(namespace, reason, "TradingModel");
}

type EndpointSlice = {
  endpoints?: { conditions?: { ready?: boolean }; targetRef?: { kind?: string; name?: string } }[];
};

/** The versions ("v1", …) of the pods behind a Service's ready endpoints, one entry per endpoint, sorted. */
export async function serviceVersions(namespace: string, service: string): Promise<string[]> {
  const slices = await getJson<{ items: EndpointSlice[] }>([
    "endpointslices",
    "-n",
    namespace,
    "-l",
    `kubernetes.io/service-name=${service}`,
  ]);
  const ready = slices.items
    .flatMap((s) => s.endpoints ?? [])
    .filter((e) => e.conditions?.ready !== false && e.targetRef?.kind === "Pod")
    .map((e) => e.targetRef?.name);
  const byName = new Map(
    (await pods(namespace, `trading.mlops.dev/model=${MODEL}`)).map((p) => [
      p.metadata?.name,
      p.metadata?.labels?.["trading.mlops.dev/version"] ?? "?",
    ]),
  );
  return ready.map((name) => byName.get(name) ?? "?").sort();
}

/** Waits until the Service's ready endpoints are exactly pods of these versions (e.g. ["v1", "v1"]). */
export function waitForServiceVersions(
  namespace: string,
  service: string,
  versions: string[],
  timeoutMs = 60_000,
): Promise<string[]> {
  const want = JSON.stringify([...versions].sort());
  return waitFor(
    `Service ${namespace}/${service} to route to ${want}`,
    async () => {
      const seen = await serviceVersions(namespace, service);
      if (JSON.stringify(seen) === want) return seen;
      throw new Error(`routes to ${JSON.stringify(seen)}`);
    },
    { timeoutMs, intervalMs: 250 },
  );
}

/** A request the client made: its route, and what the answer said about who answered. */
export type Answer = Outcome & { path: string; modelVersion?: string; track?: string };

export const failed = (a: Answer) => a.error !== undefined || a.status !== 200;

export interface Client {
  readonly answers: Answer[];
  failures(): Answer[];
  /** Stops starting sessions, waits for those under way, and returns the failed requests. */
  stop(): Promise<Answer[]>;
}

function answerOf(path: string, outcome: Outcome): Answer {
  const answer: Answer = { ...outcome, path };
  if (outcome.status === 200 && outcome.body) {
    const body = JSON.parse(outcome.body) as { modelVersion?: string; track?: string };
    if (body.modelVersion) answer.modelVersion = body.modelVersion;
    if (body.track) answer.track = body.track;
  }
  return answer;
}

/** Starts `session(i)` every `intervalMs` until stopped, without waiting for one to end. */
function continuously(intervalMs: number, session: (i: number) => Promise<Answer[]>): Client {
  let stopped = false;
  const answers: Answer[] = [];
  const under = new Set<Promise<void>>();
  const done = (async () => {
    const start = Date.now();
    for (let i = 0; !stopped; i++) {
      await sleep(Math.max(0, start + i * intervalMs - Date.now()));
      const p = session(i).then((batch) => {
        answers.push(...batch);
      });
      under.add(p);
      void p.finally(() => under.delete(p));
    }
    await Promise.all(under);
  })();
  const failures = () => answers.filter(failed);
  return {
    answers,
    failures,
    async stop() {
      stopped = true;
      await done;
      return failures();
    },
  };
}

export interface PredictionLoad {
  perSecond?: number;
  /** A new row of features for every request (see variedRows) instead of one fixed row. */
  varied?: boolean;
}

/** Predictions, each on a new connection, `perSecond` a second, of one fixed row or varied rows. */
export function predictions(
  address: string,
  features: readonly string[],
  { perSecond = 20, varied = false }: PredictionLoad = {},
): Client {
  const fixed = JSON.stringify({ features: featureRow(features) });
  const rows = varied ? variedRows(features) : undefined;
  return continuously(1000 / perSecond, async (i) => {
    const body = rows ? JSON.stringify({ features: rows() }) : fixed;
    return [answerOf("/v1/predict", await post(address, "/v1/predict", body, REQUEST_TIMEOUT_MS, i))];
  });
}

/**
 * Feature rows around the training data's scale, a new one for every request, so that a shadow's
 * sign agreement is measured over as many inputs as requests (one repeated row would agree all or
 * nothing; one row per ten requests left a 5 s measurement ten rows to judge on).
 */
function variedRows(features: readonly string[]): () => Record<string, number> {
  const scale: Record<string, number> = { ret_1: 0.004, ret_5: 0.011, ret_20: 0.03, sma_ratio_5_20: 0.012 };
  let seed = 7;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const draw = () =>
    Object.fromEntries(
      features.map((f) => [
        f,
        f.startsWith("vol_")
          ? 0.002 + 0.0006 * uniform()
          : f.startsWith("volume_z")
            ? 2 * uniform()
            : (scale[f] ?? 0.01) * uniform(),
      ]),
    );
  return () => draw();
}

/**
 * The live market a trading client sees: the trending regime (the one v1 is trained on) from a
 * seed training never saw. Trade i is a window of bars ending at bar t, and the return that bar
 * t + 1 realized.
 */
function liveMarket(features: readonly string[]) {
  const bars = generateBars({ seed: 7, bars: 20_000, regime: "trending" });
  const lookback = new FeatureWindow(features).lookback;
  const bar = (k: number): Bar => ({
    ts: bars.ts[k] as number,
    open: bars.open[k] as number,
    high: bars.high[k] as number,
    low: bars.low[k] as number,
    close: bars.close[k] as number,
    volume: bars.volume[k] as number,
  });
  return (i: number) => {
    const t = lookback - 1 + (i % (bars.length - lookback - 1));
    const window = Array.from({ length: lookback }, (_, k) => bar(t - lookback + 1 + k));
    return { bars: window, realized: Math.log((bars.close[t + 1] as number) / (bars.close[t] as number)) };
  };
}

/**
 * A trading client: each trade sends the latest bars of the live market to /v1/predict and, with
 * `feedback`, the return the next bar realized to /v1/feedback, both on one connection so the
 * feedback reaches the pod that made the prediction (a Service balances connections).
 */
export function trades(
  address: string,
  features: readonly string[],
  { perSecond = 20, feedback = true }: { perSecond?: number; feedback?: boolean } = {},
): Client {
  const market = liveMarket(features);
  return continuously(1000 / perSecond, async (i) => {
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const { bars, realized } = market(i);
      const predicted = answerOf(
        "/v1/predict",
        await post(address, "/v1/predict", JSON.stringify({ bars }), REQUEST_TIMEOUT_MS, i, agent),
      );
      if (!feedback || predicted.status !== 200 || !predicted.body) return [predicted];
      const { predictionId } = JSON.parse(predicted.body) as { predictionId: string };
      const body = JSON.stringify({ predictionId, realized });
      return [
        predicted,
        answerOf("/v1/feedback", await post(address, "/v1/feedback", body, REQUEST_TIMEOUT_MS, i, agent)),
      ];
    } finally {
      agent.destroy();
    }
  });
}

/** Opens the Service and runs a client on it until `stop`; the report line names the Service. */
export async function clientOn(
  namespace: string,
  service: string,
  start: (address: string) => Client,
): Promise<Client & { service: ServiceEndpoint }> {
  const endpoint = await openService(namespace, service, "http");
  const client = start(endpoint.address);
  return {
    ...client,
    answers: client.answers,
    service: endpoint,
    async stop() {
      const failures = await client.stop();
      endpoint.close();
      const byPath = Object.entries(Object.groupBy(client.answers, (a) => a.path))
        .map(([path, list]) => `${list?.length} ${path}`)
        .join(", ");
      console.log(`client of ${service}: ${byPath}; ${failures.length} failed`);
      return failures;
    },
  };
}

/** Seconds between two ISO timestamps of the status. */
export const secondsBetween = (from: string | undefined, to: string | undefined) =>
  (Date.parse(to ?? "") - Date.parse(from ?? "")) / 1000;

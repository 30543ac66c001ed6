// `make bench-rollout`: the progressive-delivery goals measured on the local cluster with real parts
// (operator host process, cluster Prometheus scraping every second, real trainer Jobs and predictor
// pods), under continuous client load through the model's Service. Writes bench/results/rollout.json.
//   - a 4-step canary of a passing candidate: start to promotion, against steps x interval;
//   - 5 rollbacks on p95 latency (the predictor's chaos option on the canary): from the failing
//     measurement to no candidate pod left in the Service's endpoints, against the 2-interval goal
//     and the time Argo Rollouts ((failureLimit + 1) x interval) and Flagger (threshold x interval)
//     need at the same settings;
//   - failed client requests during all of it.
import { mkdir, writeFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import {
  applyModel,
  exampleModel,
  getModel,
  patchSpec,
  waitForModel,
  waitForStable,
} from "../../test/e2e/flows/lib/models.ts";
import { servedPods } from "../../test/e2e/flows/lib/serving.ts";
import {
  installCrds,
  type OperatorProcess,
  startOperator,
  stopOperator,
} from "../../test/e2e/operator/support.ts";
import { clientOn, predictions } from "../../test/e2e/rollout/support.ts";
import { e2eContext } from "../../test/e2e/support/context.ts";
import { kubectl } from "../../test/e2e/support/kubectl.ts";
import { waitFor } from "../../test/e2e/support/wait.ts";
import type { Figure } from "../summary.ts";
import { canaryTimeline } from "./timeline.ts";

const MODEL = "spy-momentum";
const NAMESPACE = `bench-rollout-${Date.now().toString(36)}`;
const INTERVAL_S = 5;
const WINDOW_S = 10;
const STEPS = [5, 25, 50, 100];
const ROLLBACKS = 5;
const resultsDir = resolve(import.meta.dirname, "../results");

let operator: OperatorProcess | undefined;
beforeAll(async () => {
  await installCrds();
  await kubectl(["create", "namespace", NAMESPACE]);
});
afterAll(async () => {
  if (operator) await stopOperator(operator, "SIGKILL");
  await kubectl(["delete", "namespace", NAMESPACE, "--wait=false"]);
});

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? (s[m] as number) : ((s[m - 1] as number) + (s[m] as number)) / 2;
};

it(
  "rollout timing and failed requests under load",
  async () => {
    operator = startOperator({
      identity: "op-bench",
      leaseNamespace: NAMESPACE,
      watchNamespace: NAMESPACE,
      args: [`--prometheus-url=${e2eContext().prometheusUrl}`],
    });
    const model = await exampleModel("spy-momentum.yaml", NAMESPACE);
    model.spec.training = {
      ...model.spec.training,
      data: { synthetic: { seed: 42, bars: 3000, regime: "Trending" } },
    };
    model.spec.serving = { replicas: 2 };
    model.spec.rollout = { strategy: "Canary", canary: { steps: STEPS } };
    model.spec.analysis = {
      interval: `${INTERVAL_S}s`,
      window: `${WINDOW_S}s`,
      minSamples: 10,
      noDataLimit: 24,
      failureLimit: 0,
      latencyP95Ms: { max: 200 },
      errorRate: { max: 0.05 },
    };
    await applyModel(model);
    await waitForStable(NAMESPACE, MODEL, 1, 6 * 60_000);

    const client = await clientOn(NAMESPACE, MODEL, (address) => predictions(address, model.spec.features));
    const figures: Figure[] = [];
    try {
      const requestedAt = Date.now();
      await patchSpec(NAMESPACE, MODEL, { training: { retrainRequest: "v2" } });
      const promoted = await waitForStable(NAMESPACE, MODEL, 2, 6 * 60_000);
      const r = promoted.status?.rollout;
      const canarySeconds = (Date.parse(r?.finishedAt ?? "") - Date.parse(r?.startedAt ?? "")) / 1000;
      const ideal = STEPS.length * INTERVAL_S;
      figures.push({
        name: `${STEPS.length}-step canary of a passing candidate, start to promotion (interval ${INTERVAL_S} s)`,
        value: canarySeconds,
        unit: "s",
        better: "lower",
        baseline: { name: "steps x interval", value: ideal },
        goal: { atMost: ideal * 1.2 },
      });
      // Where that time went, from the operator's log: each step's wait for its pods and its
      // analysis (its weight in effect), and the promotion (stable's rolling update).
      const timeline = canaryTimeline(operator.logs, requestedAt);
      if (!timeline) throw new Error("no promoted canary of v2 in the operator's log");
      const seconds = (ms: number) => Math.round(ms / 100) / 10;
      const sum = (xs: number[]) => xs.reduce((a, b) => a + b, 0);
      console.log(
        `canary of v2: ${seconds(timeline.totalMs)} s = ${timeline.steps.map((s, i) => `step ${i + 1}: pods ${seconds(s.podsMs)} s + analysis ${seconds(s.analysisMs)} s`).join(", ")}, promotion ${seconds(timeline.promotionMs)} s; ${timeline.inconclusive} inconclusive measurements`,
      );
      figures.push(
        {
          name: `of which with a step's weight in effect (its analysis), summed over the ${timeline.steps.length} analysed steps`,
          value: seconds(sum(timeline.steps.map((s) => s.analysisMs))),
          unit: "s",
          better: "lower",
          baseline: { name: "(steps - 1) x interval", value: (STEPS.length - 1) * INTERVAL_S },
        },
        {
          name: "of which waiting for the candidate's pods to be ready at a step's weight",
          value: seconds(sum(timeline.steps.map((s) => s.podsMs))),
          unit: "s",
          better: "lower",
        },
        {
          name: "of which the promotion: the last step passed to every stable pod running the candidate",
          value: seconds(timeline.promotionMs),
          unit: "s",
          better: "lower",
        },
      );

      const breachToStable: number[] = [];
      for (let k = 0; k < ROLLBACKS; k++) {
        const version = 3 + k;
        await patchSpec(NAMESPACE, MODEL, {
          training: { retrainRequest: `v${version}` },
          rollout: { paused: true },
        });
        await waitForModel(
          NAMESPACE,
          MODEL,
          `v${version} paused in its canary`,
          (m) => m.status?.rollout?.version === version && m.status.rollout.phase === "Paused",
          { timeoutMs: 6 * 60_000 },
        );
        const canary = `deployment/${MODEL}-predictor-canary`;
        await kubectl(["set", "env", "-n", NAMESPACE, canary, "CHAOS_LATENCY_MS=400"]);
        await kubectl(["rollout", "status", "-n", NAMESPACE, canary, "--timeout=120s"]);
        await new Promise((res) => setTimeout(res, (WINDOW_S + 1) * 1000));
        await patchSpec(NAMESPACE, MODEL, { rollout: { paused: false } });
        const gone = await waitFor(
          `v${version}'s pods out of the Service`,
          async () => {
            const m = await getModel(NAMESPACE, MODEL);
            if (m.status?.rollout?.phase !== "RolledBack") return undefined;
            const pods = await servedPods(NAMESPACE, MODEL);
            return pods.some((p) => p.version === `v${version}`) ? undefined : { at: Date.now(), model: m };
          },
          { timeoutMs: 120_000, intervalMs: 100 },
        );
        const failingMeasurement = Date.parse(gone.model.status?.rollout?.lastAnalysisAt ?? "");
        breachToStable.push((gone.at - failingMeasurement) / 1000);
      }
      const argo = (0 + 1) * INTERVAL_S;
      figures.push(
        {
          name: `first failing measurement to no candidate pod in the Service, median of ${ROLLBACKS} rollbacks`,
          value: median(breachToStable),
          unit: "s",
          better: "lower",
          baseline: { name: "Argo Rollouts (failureLimit + 1) x interval, computed", value: argo },
          goal: { atMost: 2 * INTERVAL_S },
        },
        {
          name: `first failing measurement to no candidate pod in the Service, worst of ${ROLLBACKS} rollbacks`,
          value: Math.max(...breachToStable),
          unit: "s",
          better: "lower",
          baseline: { name: "Flagger threshold x interval (defaults 1 x 60 s), computed", value: 60 },
          goal: { atMost: 2 * INTERVAL_S },
        },
      );
    } finally {
      await client.stop();
    }
    const outcomes = client.answers;
    const failed = client.failures();
    figures.push({
      name: `failed client requests during 1 promotion and ${ROLLBACKS} rollbacks (${outcomes.length} sent)`,
      value: failed.length,
      unit: "requests",
      better: "lower",
      goal: { atMost: 0 },
    });
    await mkdir(resultsDir, { recursive: true });
    await writeFile(
      join(resultsDir, "rollout.json"),
      `${JSON.stringify({ figures, failed: failed.slice(0, 20) }, null, 2)}\n`,
    );
    console.log(JSON.stringify(figures, null, 2));
    expect(figures.length).toBe(7);
  },
  30 * 60_000,
);

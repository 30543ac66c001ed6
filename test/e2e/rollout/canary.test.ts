// Progressive delivery on the local cluster with real parts only: the operator (a host process,
// pointed at the cluster's Prometheus), real trainer Jobs, real predictor pods scraped every second,
// and a client sending predictions through the model's Service the whole time. A v2 goes 25 -> 50
// -> 100% on passing analysis and is promoted; a v3 made slow with the predictor's chaos option is
// rolled back on p95 latency by itself. No client request may fail during either.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  applyModel,
  condition,
  eventNotes,
  exampleModel,
  getModel,
  modelVersions,
  patchSpec,
  waitForModel,
  waitForStable,
} from "../flows/lib/models.ts";
import { servedPods } from "../flows/lib/serving.ts";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { e2eContext } from "../support/context.ts";
import { kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { waitFor } from "../support/wait.ts";
import { clientOn, predictions } from "./support.ts";

const MODEL = "spy-momentum";
// Training 50,000 bars and starting two predictor pods on a loaded 2-core machine.
const TRAINED_MS = 6 * 60_000;
const CANARY_LATENCY_MS = 400;

describe("canary rollouts under load, analysed from Prometheus", () => {
  const ns = useNamespace("e2e-canary");
  let operator: OperatorProcess | undefined;

  beforeAll(installCrds);
  afterAll(async () => {
    if (operator) await stopOperator(operator, "SIGKILL");
  });

  it(
    "promotes a passing v2 step by step across an operator restart, then rolls a slow v3 back on p95 by itself, with no failed request",
    async () => {
      const { prometheusUrl } = e2eContext();
      expect(prometheusUrl).not.toBe("");
      operator = startOperator({
        identity: "op-canary",
        leaseNamespace: ns.name,
        watchNamespace: ns.name,
        args: [`--prometheus-url=${prometheusUrl}`],
      });
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      model.spec.serving = { replicas: 2 };
      model.spec.rollout = { strategy: "Canary", canary: { steps: [25, 50, 100] } };
      model.spec.analysis = {
        interval: "5s",
        window: "15s",
        minSamples: 20,
        onNoData: "Wait",
        noDataLimit: 24,
        failureLimit: 0,
        latencyP95Ms: { max: 200 },
        errorRate: { max: 0.05 },
      };
      await applyModel(model);
      await waitForStable(ns.name, MODEL, 1, TRAINED_MS);

      const load = await clientOn(ns.name, MODEL, (address) => predictions(address, model.spec.features));
      try {
        // v2: same inputs, retrained on request; it passes every step and replaces v1.
        await patchSpec(ns.name, MODEL, { training: { retrainRequest: "v2" } });
        const stepping = await waitForModel(
          ns.name,
          MODEL,
          "v2 in its canary",
          (m) => m.status?.rollout?.version === 2 && (m.status.rollout.weight ?? 0) > 0,
          { timeoutMs: TRAINED_MS },
        );
        expect(stepping.status?.candidateVersion).toBe(2);
        // The operator killed mid-rollout: its replacement resumes from status.rollout alone.
        if (operator) await stopOperator(operator, "SIGKILL");
        operator = startOperator({
          identity: "op-canary-2",
          leaseNamespace: ns.name,
          watchNamespace: ns.name,
          args: [`--prometheus-url=${prometheusUrl}`],
        });
        const promoted = await waitForStable(ns.name, MODEL, 2, 3 * 60_000);
        expect(promoted.status?.rollout).toMatchObject({ version: 2, phase: "Succeeded", stepIndex: 2 });
        const passed = promoted.status?.rollout?.analysis ?? [];
        expect(passed.map((r) => [r.check, r.verdict])).toEqual([
          ["latencyP95Ms", "Passed"],
          ["errorRate", "Passed"],
        ]);
        expect(passed[0]?.samples).toBeGreaterThanOrEqual(20);
        const steps = await eventNotes(ns.name, "RolloutStepAdvanced", "TradingModel");
        // Each step passed once: none repeated or skipped across the restart.
        expect(
          steps
            .filter((n) => n.startsWith("v2 passed step"))
            .map((n) => n.slice(0, 20))
            .sort(),
        ).toEqual(["v2 passed step 1/3 a", "v2 passed step 2/3 a"]);
        expect(steps.join("\n")).toMatch(/p95 latency [0-9.]+ ms <= 200 ms over [0-9]+ requests/);
        expect((await servedPods(ns.name, MODEL)).every((p) => p.version === "v2")).toBe(true);

        // v3: paused at its first step so its canary pods can be slowed, then resumed.
        const stableBefore = (await servedPods(ns.name, MODEL)).filter((p) => p.version === "v2");
        await patchSpec(ns.name, MODEL, { training: { retrainRequest: "v3" }, rollout: { paused: true } });
        await waitForModel(
          ns.name,
          MODEL,
          "v3 paused in its canary",
          (m) => m.status?.rollout?.version === 3 && m.status.rollout.phase === "Paused",
          {
            timeoutMs: TRAINED_MS,
          },
        );
        await kubectl([
          "set",
          "env",
          "-n",
          ns.name,
          `deployment/${MODEL}-predictor-canary`,
          `CHAOS_LATENCY_MS=${CANARY_LATENCY_MS}`,
        ]);
        await kubectl([
          "rollout",
          "status",
          "-n",
          ns.name,
          `deployment/${MODEL}-predictor-canary`,
          "--timeout=120s",
        ]);
        // The analysis window then holds only the slowed pods' requests.
        await new Promise((r) => setTimeout(r, 16_000));
        await patchSpec(ns.name, MODEL, { rollout: { paused: false } });
        const rolledBack = await waitForModel(
          ns.name,
          MODEL,
          "v3 rolled back",
          (m) => m.status?.rollout?.version === 3 && m.status.rollout.phase === "RolledBack",
          { timeoutMs: 90_000, intervalMs: 250 },
        );
        const detectedAt = Date.now();
        const finishedAt = Date.parse(rolledBack.status?.rollout?.finishedAt ?? "");
        const failed = rolledBack.status?.rollout?.analysis?.find((r) => r.check === "latencyP95Ms");
        expect(failed).toMatchObject({ verdict: "Failed", threshold: 200 });
        expect(failed?.value).toBeGreaterThan(200);
        expect(rolledBack.status?.stableVersion).toBe(2);
        expect(condition(rolledBack, "Degraded")).toMatchObject({ status: "True", reason: "RolledBack" });
        // Traffic back on stable: no v3 pod serves any more.
        await waitFor(
          "v3's pods gone from the Service",
          async () => (await servedPods(ns.name, MODEL)).every((p) => p.version === "v2") || undefined,
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        console.log(
          `breach to stable: rollback decided ${Date.parse(rolledBack.status?.rollout?.lastAnalysisAt ?? "") - finishedAt} ms after the failing measurement; v3 pods gone ${Date.now() - detectedAt} ms after the status said so`,
        );
        const v3 = (await modelVersions(ns.name)).find((v) => v.spec.version === 3);
        expect(v3?.status?.stage).toBe("Rejected");
        expect(v3?.status?.stageHistory?.at(-1)?.message).toMatch(/p95 latency [0-9.]+ ms > 200 ms/);
        const notes = await eventNotes(ns.name, "RolledBack", "TradingModel");
        expect(
          notes.some((n) =>
            /rolled back v3 at [0-9]+% \(step 1\/3\): p95 latency [0-9.]+ ms > 200 ms/.test(n),
          ),
        ).toBe(true);
        // Stable's pods were never restarted by v3's canary.
        const stableAfter = (await servedPods(ns.name, MODEL)).filter((p) => p.version === "v2");
        expect(stableAfter.map((p) => p.uid)).toEqual(stableBefore.map((p) => p.uid));
        const described = await kubectl(["describe", "tm", MODEL, "-n", ns.name]);
        for (const reason of [
          "RolloutStarted",
          "TrafficShifted",
          "RolloutStepAdvanced",
          "VersionPromoted",
          "RolledBack",
        ]) {
          expect(described).toContain(reason);
        }
      } finally {
        expect(await load.stop()).toEqual([]);
      }
      expect((await getModel(ns.name, MODEL)).status?.phase).toBe("Degraded");
    },
    2 * TRAINED_MS + 8 * 60_000,
  );
});

// The shadow strategy on the local cluster with real parts only: the operator (a host process,
// pointed at the cluster's Prometheus), real trainer Jobs, real predictor pods, kube-proxy and
// CoreDNS carrying stable's mirror to the shadow Service. v1 is trained on a trending market; v2 on a
// mean-reverting one calls the opposite sign on most rows. v2 runs in shadow under client load,
// disagrees with stable, and is rejected without ever answering a client, while stable's pods are
// neither restarted nor replaced. v3, trending again on another seed, agrees and is promoted.
import type { V1Pod, V1ReplicaSet } from "@kubernetes/client-node";
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
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { e2eContext } from "../support/context.ts";
import { getJson } from "../support/kubectl.ts";
import { type Outcome, runLoad } from "../support/load.ts";
import { useNamespace } from "../support/namespace.ts";
import { pods } from "../support/pods.ts";
import { query } from "../support/prometheus.ts";
import { openService } from "../support/service.ts";

const MODEL = "spy-momentum";
// Training 50,000 bars and starting two predictor pods on a loaded 2-core machine.
const TRAINED_MS = 6 * 60_000;
const STABLE = `trading.mlops.dev/model=${MODEL},trading.mlops.dev/track=stable`;

/**
 * Feature rows around the training data's scale, a new one every ten requests, so that sign
 * agreement is measured over many inputs (one repeated row would agree all or nothing).
 */
function varietyOfRows(features: readonly string[]): () => string {
  let seed = 7;
  const uniform = () => {
    seed = (seed * 1103515245 + 12345) % 2 ** 31;
    return seed / 2 ** 31 - 0.5;
  };
  const scale: Record<string, number> = { ret_1: 0.004, ret_5: 0.011, ret_20: 0.03, sma_ratio_5_20: 0.012 };
  return () =>
    JSON.stringify({
      features: Object.fromEntries(
        features.map((f) => [
          f,
          f.startsWith("vol_")
            ? 0.002 + 0.0006 * uniform()
            : f.startsWith("volume_z")
              ? 2 * uniform()
              : (scale[f] ?? 0.01) * uniform(),
        ]),
      ),
    });
}

/** Predictions through the model's Service at 20/s until stopped; each answer's version is kept. */
function continuousLoad(address: string, nextBody: () => string) {
  let stopped = false;
  const outcomes: Outcome[] = [];
  const done = (async () => {
    while (!stopped) {
      const { outcomes: batch } = await runLoad({
        address,
        path: "/v1/predict",
        body: nextBody(),
        count: 10,
        intervalMs: 50,
      });
      outcomes.push(...batch);
    }
  })();
  return {
    async stop() {
      stopped = true;
      await done;
      const byVersion: Record<string, number> = {};
      for (const o of outcomes) {
        if (o.status !== 200 || o.body === undefined) continue;
        const version = String((JSON.parse(o.body) as { modelVersion?: unknown }).modelVersion);
        byVersion[version] = (byVersion[version] ?? 0) + 1;
      }
      return {
        total: outcomes.length,
        failures: outcomes.filter((o) => o.error !== undefined || o.status !== 200),
        byVersion,
      };
    },
  };
}

/** Stable's pods and ReplicaSets as the checks need them: identity and restarts. */
async function stableSnapshot(namespace: string) {
  const running = (await pods(namespace, STABLE)).filter((p: V1Pod) => !p.metadata?.deletionTimestamp);
  const sets = await getJson<{ items: V1ReplicaSet[] }>(["rs", "-n", namespace, "-l", STABLE]);
  return {
    pods: running
      .map((p) => ({
        uid: p.metadata?.uid,
        restarts: (p.status?.containerStatuses ?? []).reduce((n, c) => n + c.restartCount, 0),
      }))
      .sort((a, b) => String(a.uid).localeCompare(String(b.uid))),
    replicaSets: sets.items.map((rs) => rs.metadata?.name).sort(),
  };
}

describe("shadow rollout under load, analysed from Prometheus", () => {
  const ns = useNamespace("e2e-shadow");
  let operator: OperatorProcess | undefined;

  beforeAll(installCrds);
  afterAll(async () => {
    if (operator) await stopOperator(operator, "SIGKILL");
  });

  it(
    "rejects a disagreeing v2 in shadow (it answers no client, the verdict is in numbers, stable's pods are untouched), then promotes an agreeing v3",
    async () => {
      const { prometheusUrl } = e2eContext();
      expect(prometheusUrl).not.toBe("");
      operator = startOperator({
        identity: "op-shadow",
        leaseNamespace: ns.name,
        watchNamespace: ns.name,
        args: [`--prometheus-url=${prometheusUrl}`],
      });
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      model.spec.serving = { replicas: 2 };
      model.spec.rollout = { strategy: "Shadow", shadow: { duration: "20s" } };
      model.spec.analysis = {
        interval: "5s",
        window: "15s",
        minSamples: 20,
        onNoData: "Wait",
        noDataLimit: 24,
        failureLimit: 0,
        latencyP95Ms: { max: 200 },
        errorRate: { max: 0.05 },
        signAgreement: { min: 0.8 },
        meanAbsDiff: { max: 0.0003 },
      };
      await applyModel(model);
      await waitForStable(ns.name, MODEL, 1, TRAINED_MS);
      const before = await stableSnapshot(ns.name);
      expect(before.pods).toHaveLength(2);
      expect(before.replicaSets).toHaveLength(1);

      const service = await openService(ns.name, MODEL, "http");
      const load = continuousLoad(service.address, varietyOfRows(model.spec.features));
      let seen: Awaited<ReturnType<typeof load.stop>> | undefined;
      try {
        // v2: the same features on a mean-reverting market: it calls the opposite sign on most rows.
        await patchSpec(ns.name, MODEL, {
          training: { data: { synthetic: { regime: "MeanReverting" } }, retrainRequest: "v2" },
        });
        const inShadow = await waitForModel(
          ns.name,
          MODEL,
          "v2 in its shadow phase",
          (m) => m.status?.rollout?.version === 2 && m.status.rollout.stepStartedAt !== undefined,
          { timeoutMs: TRAINED_MS },
        );
        expect(inShadow.status?.rollout).toMatchObject({
          strategy: "Shadow",
          shadowPhase: "Running",
          weight: 0,
        });
        const rejected = await waitForModel(
          ns.name,
          MODEL,
          "v2 rejected",
          (m) => m.status?.rollout?.version === 2 && m.status.rollout.phase === "RolledBack",
          { timeoutMs: 3 * 60_000, intervalMs: 500 },
        );
        const checks = rejected.status?.rollout?.analysis ?? [];
        const agreement = checks.find((r) => r.check === "signAgreement");
        expect(agreement).toMatchObject({ verdict: "Failed", threshold: 0.8 });
        expect(agreement?.value).toBeLessThan(0.5);
        expect(agreement?.samples).toBeGreaterThanOrEqual(20);
        expect(checks.find((r) => r.check === "meanAbsDiff")?.value).toBeGreaterThan(0);
        // The shadow answered the mirrored requests itself, fast and without errors.
        expect(checks.find((r) => r.check === "latencyP95Ms")?.verdict).toBe("Passed");
        expect(rejected.status?.stableVersion).toBe(1);
        expect(condition(rejected, "Degraded")).toMatchObject({ status: "True", reason: "RolledBack" });
        const message = rejected.status?.rollout?.message ?? "";
        const rollout = rejected.status?.rollout;
        console.log(
          `shadow: mirroring in effect at ${rollout?.stepStartedAt}, rejected ${(Date.parse(rollout?.finishedAt ?? "") - Date.parse(rollout?.stepStartedAt ?? "")) / 1000} s later: ${message}`,
        );
        expect(message).toMatch(
          /^rolled back v2 at shadow: .*sign agreement with stable [0-9.]+ < 0\.8 \([0-9]+ of [0-9]+ mirrored predictions\) \[Failed\]/,
        );
        const v2 = (await modelVersions(ns.name)).find((v) => v.spec.version === 2);
        expect(v2?.status?.stage).toBe("Rejected");
        expect(v2?.status?.stageHistory?.at(-1)?.message).toMatch(
          /sign agreement with stable [0-9.]+ < 0\.8/,
        );
        expect((await eventNotes(ns.name, "ShadowStarted", "TradingModel")).join("\n")).toMatch(
          /v2 in shadow: 2 pods get a mirror of v1's live requests/,
        );
        // Stable's pods counted every comparison under v2's version; the shadow is gone.
        const compared = await query(
          `sum(predictor_shadow_compared_total{namespace="${ns.name}",model="${MODEL}",track="stable",shadow_version="v2"})`,
        );
        expect(Number(compared[0]?.value[1])).toBeGreaterThanOrEqual(20);
        const shadowPods = async () =>
          (await pods(ns.name, `trading.mlops.dev/model=${MODEL},trading.mlops.dev/track=shadow`)).length;
        for (let i = 0; i < 60 && (await shadowPods()) > 0; i++)
          await new Promise((r) => setTimeout(r, 1_000));
        expect(await shadowPods()).toBe(0);
        // Stable through v2's whole shadow phase: the same pods, never restarted, the same ReplicaSet.
        expect(await stableSnapshot(ns.name)).toEqual(before);
        expect((await getModel(ns.name, MODEL)).status?.phase).toBe("Degraded");

        // v3: the trending market again, another seed: it agrees with v1, passes and is promoted.
        await patchSpec(ns.name, MODEL, {
          training: { data: { synthetic: { regime: "Trending", seed: 43 } }, retrainRequest: "v3" },
        });
        const promoted = await waitForStable(ns.name, MODEL, 3, TRAINED_MS);
        expect(promoted.status?.rollout).toMatchObject({
          version: 3,
          strategy: "Shadow",
          phase: "Succeeded",
          shadowPhase: "Passed",
        });
        const passed = promoted.status?.rollout?.analysis?.find((r) => r.check === "signAgreement");
        expect(passed?.verdict).toBe("Passed");
        expect(passed?.value).toBeGreaterThanOrEqual(0.8);
        const note = (await eventNotes(ns.name, "ShadowPassed", "TradingModel")).join("\n");
        console.log(`shadow: ${note}`);
        expect(note).toMatch(
          /v3 passed its shadow phase after [0-9]+ s \(.*sign agreement with stable [0-9.]+ >= 0\.8/,
        );
        const stages = Object.fromEntries(
          (await modelVersions(ns.name)).map((v) => [v.spec.version, v.status?.stage]),
        );
        expect(stages).toMatchObject({ 1: "Archived", 2: "Rejected", 3: "Production" });
      } finally {
        seen = await load.stop();
        service.close();
      }
      console.log(`client: ${seen.total} requests, answers by version ${JSON.stringify(seen.byVersion)}`);
      expect(seen.failures).toEqual([]);
      // No client ever got an answer from v2; v3 answers only once promoted.
      expect(seen.byVersion.v2).toBeUndefined();
      expect(Object.keys(seen.byVersion).sort()).toEqual(
        seen.byVersion.v3 === undefined ? ["v1"] : ["v1", "v3"],
      );
    },
    TRAINED_MS * 2 + 5 * 60_000,
  );
});

// The example applied to a real cluster, with the operator installed by its Helm chart: the Job
// runs the real trainer, v1 is registered with its holdout metrics and served; a v2 trained on a
// feature set without signal fails the offline gate and v1 keeps serving, on the same pods.
import type { V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { readable } from "../../../operator/src/display.ts";
import { getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { containerLog, pods as podsOf } from "../support/pods.ts";
import { waitFor } from "../support/wait.ts";
import {
  applyModel,
  condition,
  eventNotes,
  exampleModel,
  modelVersions,
  patchSpec,
  table,
  waitForModel,
  waitForStable,
  waitForVersion,
} from "./lib/models.ts";
import { chartOperatorPods, installChartOperator, leaseHolder } from "./lib/operator.ts";
import { predictThroughService, servedPods } from "./lib/serving.ts";

const MODEL = "spy-momentum";
// Pod start-up, 50,000 bars through the real trainer, artifact publication and two predictor pods
// on a loaded 2-core machine: about a minute; the bound leaves room.
const SERVED_WITHIN_MS = 6 * 60_000;

describe("the example, served by the chart-deployed operator", () => {
  const ns = useNamespace("e2e-flow-serve");

  it(
    "trains v1 in a Job, registers it with holdout metrics, serves it, and kubectl get tm says so",
    async () => {
      const operator = await installChartOperator(ns.name);
      const operatorPods = await chartOperatorPods(operator);
      expect(operatorPods.length).toBe(2);
      for (const pod of operatorPods) expect(pod.spec?.serviceAccountName).toBe(operator.serviceAccount);
      const leader = await waitFor("an operator pod to lead", async () => {
        const holder = await leaseHolder(ns.name);
        return operatorPods.some((p) => p.metadata?.name === holder) ? holder : undefined;
      });
      expect(leader).toBeDefined();

      const model = await exampleModel("spy-momentum.yaml", ns.name);
      await applyModel(model);

      const ready = await waitForStable(ns.name, MODEL, 1, SERVED_WITHIN_MS);
      expect(ready.status?.training).toMatchObject({
        version: 1,
        state: "Succeeded",
        jobName: `${MODEL}-train-v1`,
      });
      expect(condition(ready, "Ready")).toMatchObject({ status: "True", reason: "Serving" });

      const [v1] = await modelVersions(ns.name);
      expect(v1?.metadata.name).toBe(`${MODEL}-v1`);
      expect(v1?.metadata.ownerReferences?.[0]).toMatchObject({ kind: "TradingModel", name: MODEL });
      expect(v1?.spec).toMatchObject({ model: MODEL, version: 1 });
      expect(v1?.spec.dataSha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v1?.spec.artifact.sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(v1?.status?.stage).toBe("Production");
      // 50,000 bars, 20 % held out; the gate asks for 0.52 directional accuracy and R² >= 0.
      const metrics = v1?.status?.metrics;
      expect(metrics?.samples).toBeGreaterThan(9_000);
      expect(metrics?.directionalAccuracy).toBeGreaterThan(0.52);
      expect(metrics?.r2).toBeGreaterThan(0);
      expect(v1?.status?.gate?.passed).toBe(true);

      // The numbers are the real trainer's: its summary line in the Job pod's log says the same.
      const [trainer] = await podsOf(ns.name, `job-name=${MODEL}-train-v1`);
      const train = trainer?.spec?.initContainers?.find((c) => c.name === "train");
      expect(train?.image).toMatch(/^tradingmodel\/predictor:/);
      expect(train?.args?.[0]).toBe("train");
      const log = await containerLog(ns.name, trainer?.metadata?.name ?? "", "train");
      const summary = JSON.parse(
        log
          .trim()
          .split("\n")
          .find((l) => l.includes('"status":"ok"')) ?? "{}",
      );
      expect(summary).toMatchObject({
        status: "ok",
        sha256: v1?.spec.artifact.sha256,
        dataSha256: v1?.spec.dataSha256,
      });
      expect(summary.metrics).toEqual(metrics);

      const [row] = await table(ns.name, "tm");
      expect(row).toMatchObject({ NAME: MODEL, PHASE: "Ready", STABLE: "1", CANDIDATE: "" });
      const [wide] = await table(ns.name, "tm", true);
      expect(wide).toMatchObject({ STRATEGY: "Canary", TRAINING: "Succeeded" });
      const [mvRow] = await table(ns.name, "mv");
      expect(mvRow).toMatchObject({ NAME: `${MODEL}-v1`, MODEL, VERSION: "1", STAGE: "Production" });
      // Printed to 4 significant digits; the status keeps every digit.
      expect(mvRow).toMatchObject({
        DIRACC: readable(metrics?.directionalAccuracy ?? Number.NaN),
        R2: readable(metrics?.r2 ?? Number.NaN),
      });

      // The Deployment starts with one pod; the HPA raises it to the example's minReplicas, 2.
      const autoscaler = await getJson<V2HorizontalPodAutoscaler>([
        "hpa",
        `${MODEL}-predictor`,
        "-n",
        ns.name,
      ]);
      expect(autoscaler.spec).toMatchObject({ minReplicas: 2, maxReplicas: 10 });
      const pods = await waitFor("the two ready predictor pods of minReplicas", async () => {
        const ready = await servedPods(ns.name, MODEL);
        return ready.length >= 2 ? ready : undefined;
      });
      expect(pods.every((p) => p.version === "v1")).toBe(true);
      const { answers, model: served } = await predictThroughService(ns.name, MODEL, model.spec.features, 5);
      for (const answer of answers) {
        expect(answer).toMatchObject({ model: MODEL, modelVersion: "v1", track: "stable" });
        expect(Number.isFinite(answer.prediction)).toBe(true);
        expect(answer.interval.lower).toBeLessThan(answer.interval.upper);
      }
      expect(served.artifactSha256).toBe(v1?.spec.artifact.sha256);
      expect(served.features).toEqual(model.spec.features);
    },
    SERVED_WITHIN_MS + 3 * 60_000,
  );

  it(
    "rejects a v2 trained on a feature set without signal, with its numbers, and v1 keeps serving on the same pods",
    async () => {
      const podsBefore = await servedPods(ns.name, MODEL);
      expect(podsBefore.length).toBeGreaterThanOrEqual(2);
      const [v1] = await modelVersions(ns.name);
      const v1Accuracy = v1?.status?.metrics?.directionalAccuracy ?? 0;

      // Volume z-score alone carries no information about the next return in this market: the
      // same data, a genuinely worse model (holdout directional accuracy about 0.48).
      await patchSpec(ns.name, MODEL, { features: ["volume_z_20"] });

      const v2 = await waitForVersion(
        ns.name,
        `${MODEL}-v2`,
        "the gate's verdict",
        (v) => v.status?.gate !== undefined,
        {
          timeoutMs: SERVED_WITHIN_MS,
        },
      );
      expect(v2.status?.stage).toBe("Rejected");
      expect(v2.spec.parentVersion).toBe(1);
      const accuracy = v2.status?.metrics?.directionalAccuracy ?? 1;
      expect(accuracy).toBeLessThan(0.52);
      expect(accuracy).toBeLessThan(v1Accuracy);
      const verdict = v2.status?.gate?.message ?? "";
      expect(v2.status?.gate?.passed).toBe(false);
      expect(verdict).toContain(
        `directional accuracy ${accuracy.toFixed(4)} < 0.5200 (minDirectionalAccuracy)`,
      );
      expect(verdict).toMatch(/champion v1 on (same|its own) holdout/);
      expect(v2.status?.stageHistory?.at(-1)).toMatchObject({ stage: "Rejected", reason: "GateFailed" });

      const model = await waitForModel(
        ns.name,
        MODEL,
        "Degraded after v2",
        (m) => m.status?.latestVersion === 2 && condition(m, "Degraded")?.status === "True",
        { timeoutMs: 60_000 },
      );
      expect(condition(model, "Degraded")?.reason).toBe("CandidateRejected");
      expect(model.status?.stableVersion).toBe(1);
      expect(condition(model, "Degraded")?.message).toContain("v2 rejected");
      expect(condition(model, "Ready")).toMatchObject({ status: "True", reason: "Serving" });
      expect((await eventNotes(ns.name, "CandidateRejected")).join("\n")).toContain(`v2 ${verdict}`);
      const [row] = await table(ns.name, "tm");
      expect(row).toMatchObject({ NAME: MODEL, STABLE: "1", CANDIDATE: "" });

      const stages = Object.fromEntries(
        (await modelVersions(ns.name)).map((v) => [v.spec.version, v.status?.stage]),
      );
      expect(stages).toEqual({ 1: "Production", 2: "Rejected" });
      // The same pods still serve, untouched (the HPA may add v1 pods on CPU, never v2 ones).
      const podsAfter = await servedPods(ns.name, MODEL);
      expect(podsAfter).toEqual(expect.arrayContaining(podsBefore));
      expect(podsAfter.every((p) => p.version === "v1")).toBe(true);
      const { features } = (await exampleModel("spy-momentum.yaml", ns.name)).spec;
      const { answers, model: served } = await predictThroughService(ns.name, MODEL, features, 5);
      expect(answers.every((a) => a.modelVersion === "v1")).toBe(true);
      expect(served.artifactSha256).toBe(v1?.spec.artifact.sha256);
    },
    SERVED_WITHIN_MS + 2 * 60_000,
  );
});

// Progressive delivery on the local cluster with real parts only: the operator (a host process,
// pointed at the cluster's Prometheus), real trainer Jobs, real predictor pods scraped every second,
// and a client sending predictions through the model's Service the whole time. A v2 goes through the
// seeds' steps 5 -> 25 -> 50 -> 100% on passing analysis, across an operator killed mid-rollout, and
// is promoted; a v3 made slow with the predictor's chaos option is rolled back on p95 latency by
// itself. No client request may fail during either.
import { describe, expect, it } from "vitest";
import { condition, getModel, patchSpec } from "../flows/lib/models.ts";
import { servedPods } from "../flows/lib/serving.ts";
import { kubectl } from "../support/kubectl.ts";
import { waitFor } from "../support/wait.ts";
import {
  LIVE_CHECKS,
  MODEL,
  modelEvents,
  modelVersion,
  type Rollout,
  requestVersion,
  TRAINED_MS,
  useServedModel,
  waitForRollout,
} from "./support.ts";

const STEPS = [5, 25, 50, 100];
const CANARY_LATENCY_MS = 400;

describe("canary rollouts under load, analysed from Prometheus", () => {
  const served = useServedModel("e2e-canary", {
    rollout: { strategy: "Canary", canary: { steps: STEPS } },
    analysis: { ...LIVE_CHECKS, noDataLimit: 24 },
  });
  const ns = served.namespace;

  it(
    "promotes a passing v2 through 5, 25, 50 and 100% across two operator kills (mid-analysis, and at a step boundary), then rolls a slow v3 back on p95 by itself, with no failed request",
    async () => {
      const load = await served.predictions();
      try {
        // v2: same inputs, retrained on request; it passes every step and replaces v1.
        await requestVersion(ns, 2);
        await waitForRollout(ns, 2, "in its canary", (r) => (r.weight ?? 0) > 0, TRAINED_MS);
        // The operator killed mid-analysis: its replacement resumes from status.rollout alone.
        await served.replaceOperator();
        // Each step as the status shows it: the weight asked for, the one in effect, the smallest.
        const seen: Pick<Rollout, "stepIndex" | "desiredWeight" | "weight" | "minWeight">[] = [];
        // Killed again at the step boundary: step 3 asked for, its second canary pod not yet counted.
        let boundaryKill: string | undefined;
        const promoted = await waitFor(
          "v2 promoted",
          async () => {
            const m = await getModel(ns, MODEL);
            const r = m.status?.rollout;
            if (r?.version !== 2) return undefined;
            if (boundaryKill === undefined && r.stepIndex === 2) {
              boundaryKill =
                r.stepStartedAt === undefined ? "before its weight took effect" : "in its analysis";
              await served.replaceOperator();
            }
            const { stepIndex, desiredWeight, weight, minWeight } = r;
            const last = seen.at(-1);
            // A step counts once its weight is in effect (its analysis running).
            if (r.stepStartedAt !== undefined && last?.stepIndex !== stepIndex)
              seen.push({ stepIndex, desiredWeight, weight, minWeight });
            return m.status?.stableVersion === 2 && r.phase === "Succeeded" ? m : undefined;
          },
          { timeoutMs: 3 * 60_000, intervalMs: 250 },
        );
        // With 2 stable pods the smallest weight is one canary pod of 3 (33%): 5% and 25% get it.
        expect(seen).toEqual([
          { stepIndex: 0, desiredWeight: 5, weight: 33, minWeight: 33 },
          { stepIndex: 1, desiredWeight: 25, weight: 33, minWeight: 33 },
          { stepIndex: 2, desiredWeight: 50, weight: 50, minWeight: 33 },
        ]);
        expect(promoted.status?.rollout).toMatchObject({ version: 2, phase: "Succeeded", stepIndex: 3 });
        const passed = promoted.status?.rollout?.analysis ?? [];
        expect(passed.map((r) => [r.check, r.verdict])).toEqual([
          ["latencyP95Ms", "Passed"],
          ["errorRate", "Passed"],
        ]);
        expect(passed[0]?.samples).toBeGreaterThanOrEqual(20);
        // Each step passed once, none repeated or skipped across the restart, each on its numbers.
        const steps = (await modelEvents(ns, "RolloutStepAdvanced"))
          .filter((n) => n.startsWith("v2 passed step"))
          .sort();
        expect(steps.map((n) => n.slice(0, 20))).toEqual([
          "v2 passed step 1/4 a",
          "v2 passed step 2/4 a",
          "v2 passed step 3/4 a",
        ]);
        for (const note of steps) {
          expect(note).toMatch(/p95 latency [0-9.]+ ms <= 200 ms over [0-9]+ requests \[Passed\]/);
          expect(note).toMatch(/error rate [^;]* <= 0\.05 [^;]*\[Passed\]/);
        }
        console.log(`canary of v2 (operator killed again at step 3, ${boundaryKill}):\n${steps.join("\n")}`);
        expect((await servedPods(ns, MODEL)).every((p) => p.version === "v2")).toBe(true);

        // v3: paused at its first step so its canary pods can be slowed, then resumed.
        const stableBefore = (await servedPods(ns, MODEL)).filter((p) => p.version === "v2");
        await requestVersion(ns, 3, { rollout: { paused: true } });
        await waitForRollout(ns, 3, "paused in its canary", (r) => r.phase === "Paused", TRAINED_MS);
        const canary = `deployment/${MODEL}-predictor-canary`;
        await kubectl(["set", "env", "-n", ns, canary, `CHAOS_LATENCY_MS=${CANARY_LATENCY_MS}`]);
        await kubectl(["rollout", "status", "-n", ns, canary, "--timeout=120s"]);
        // The analysis window then holds only the slowed pods' requests.
        await new Promise((r) => setTimeout(r, 16_000));
        await patchSpec(ns, MODEL, { rollout: { paused: false } });
        const rolledBack = await waitForRollout(ns, 3, "rolled back", (r) => r.phase === "RolledBack");
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
          async () => (await servedPods(ns, MODEL)).every((p) => p.version === "v2") || undefined,
          { timeoutMs: 30_000, intervalMs: 250 },
        );
        console.log(
          `breach to stable: rollback decided ${Date.parse(rolledBack.status?.rollout?.lastAnalysisAt ?? "") - finishedAt} ms after the failing measurement; v3 pods gone ${Date.now() - detectedAt} ms after the status said so`,
        );
        const v3 = await modelVersion(ns, 3);
        expect(v3?.status?.stage).toBe("Rejected");
        expect(v3?.status?.stageHistory?.at(-1)?.message).toMatch(/p95 latency [0-9.]+ ms > 200 ms/);
        const notes = await modelEvents(ns, "RolledBack");
        expect(
          notes.some((n) =>
            /rolled back v3 at [0-9]+% \(step 1\/4\): p95 latency [0-9.]+ ms > 200 ms/.test(n),
          ),
        ).toBe(true);
        // Stable's pods were never restarted by v3's canary.
        const stableAfter = (await servedPods(ns, MODEL)).filter((p) => p.version === "v2");
        expect(stableAfter.map((p) => p.uid)).toEqual(stableBefore.map((p) => p.uid));
        const described = await kubectl(["describe", "tm", MODEL, "-n", ns]);
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
      expect((await getModel(ns, MODEL)).status?.phase).toBe("Degraded");
    },
    2 * TRAINED_MS + 8 * 60_000,
  );
});

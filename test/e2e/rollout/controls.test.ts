// The rollout's controls in the spec, as GitOps would set them, on the local cluster with real parts
// only and a client under continuous load: pause and resume, promote now, abort, and roll back to
// an archived version through the strategy, without retraining. No client request fails.
import { describe, expect, it } from "vitest";
import { condition, getModel, modelVersions, patchSpec } from "../flows/lib/models.ts";
import {
  LIVE_CHECKS,
  MODEL,
  modelEvents,
  modelVersion,
  requestVersion,
  serviceVersions,
  TRAINED_MS,
  useServedModel,
  waitForRollout,
  waitForServiceVersions,
} from "./support.ts";

describe("rollout controls in the spec", () => {
  const served = useServedModel("e2e-controls", {
    rollout: { strategy: "Canary", canary: { steps: [25, 50, 100] } },
    analysis: LIVE_CHECKS,
  });
  const ns = served.namespace;

  it(
    "pauses, resumes, promotes now, aborts, and rolls back to an archived version, with no failed request",
    async () => {
      const client = await served.predictions();
      try {
        // Pause: v2 arrives with the rollout paused; it holds its first step, unmeasured.
        await requestVersion(ns, 2, { rollout: { paused: true } });
        const paused = await waitForRollout(
          ns,
          2,
          "paused at its first step with its canary pod serving",
          (r) => r.phase === "Paused" && (r.weight ?? 0) > 0,
          TRAINED_MS,
        );
        expect(paused.status?.rollout).toMatchObject({ stepIndex: 0, weight: 33, desiredWeight: 25 });
        expect(condition(paused, "Progressing")).toMatchObject({ status: "True", reason: "RolloutPaused" });
        await new Promise((r) => setTimeout(r, 12_000));
        const held = await waitForRollout(ns, 2, "still paused", (r) => r.phase === "Paused");
        expect(held.status?.rollout?.stepIndex).toBe(0);
        expect(held.status?.rollout?.lastAnalysisAt).toBe(paused.status?.rollout?.lastAnalysisAt);
        expect(await serviceVersions(ns, MODEL)).toEqual(["v1", "v1", "v2"]);
        expect(
          (await modelEvents(ns, "RolloutPaused")).some((n) =>
            /^paused by spec.rollout.paused at [0-9]+% \(step 1\/3\)$/.test(n),
          ),
        ).toBe(true);

        // Resume: the step is analysed again from now; then promote now, skipping the rest.
        await patchSpec(ns, MODEL, { rollout: { paused: false } });
        await waitForRollout(ns, 2, "resumed", (r) => r.phase === "Progressing");
        await patchSpec(ns, MODEL, { rollout: { promoteVersion: 2 } });
        const promoted = await waitForRollout(ns, 2, "promoted", (r) => r.phase === "Succeeded");
        expect(promoted.status?.stableVersion).toBe(2);
        expect(promoted.status?.rollout?.stepIndex).toBeLessThan(2);
        expect((await modelEvents(ns, "RollingOut")).join("\n")).toMatch(/v2 resumed at step 1\/3/);
        expect(
          (await modelEvents(ns, "RolloutPromotedBySpec")).some((n) =>
            /^v2 promoted by spec.rollout.promoteVersion at step [12]\/3, skipping the rest$/.test(n),
          ),
        ).toBe(true);
        await waitForServiceVersions(ns, MODEL, ["v2", "v2"]);

        // Abort: v3 back to stable at once, kept as Rejected "aborted by spec"; not a failure.
        await requestVersion(ns, 3);
        await waitForRollout(ns, 3, "in its canary", (r) => (r.weight ?? 0) > 0, TRAINED_MS);
        await patchSpec(ns, MODEL, { rollout: { abortVersion: 3 } });
        const aborted = await waitForRollout(ns, 3, "aborted", (r) => r.phase === "Aborted");
        await waitForServiceVersions(ns, MODEL, ["v2", "v2"], 30_000);
        expect(aborted.status?.stableVersion).toBe(2);
        expect(condition(aborted, "Progressing")).toMatchObject({
          status: "False",
          reason: "RolloutAborted",
        });
        expect(condition(aborted, "Degraded")?.status).toBe("False");
        const v3 = await modelVersion(ns, 3);
        expect(v3?.status?.stage).toBe("Rejected");
        expect(v3?.status?.stageHistory?.at(-1)).toMatchObject({
          reason: "Aborted",
          message: "aborted by spec",
        });
        expect(
          (await modelEvents(ns, "RolloutAborted")).some((n) =>
            /^rollout of v3 aborted by spec.rollout.abortVersion at [0-9]+% \(step 1\/3\); all traffic back to v2$/.test(
              n,
            ),
          ),
        ).toBe(true);

        // Roll back to v1, archived: it goes through the canary again, with no training.
        const versionsBefore = (await modelVersions(ns)).length;
        await patchSpec(ns, MODEL, { rollout: { rollbackToVersion: 1 } });
        const canary = await waitForRollout(ns, 1, "in its canary", (r) => (r.weight ?? 0) > 0);
        expect(canary.status?.rollout).toMatchObject({ strategy: "Canary", fromVersion: 2, stepIndex: 0 });
        expect(await serviceVersions(ns, MODEL)).toEqual(["v1", "v2", "v2"]);
        const back = await waitForRollout(ns, 1, "promoted", (r) => r.phase === "Succeeded");
        expect(back.status?.stableVersion).toBe(1);
        expect(back.status?.latestVersion).toBe(3);
        expect((await modelVersions(ns)).length).toBe(versionsBefore);
        expect((await modelVersion(ns, 2))?.status?.stage).toBe("Archived");
        expect(await modelEvents(ns, "RolledBackTo")).toContain(
          "rolling back to v1 (spec.rollout.rollbackToVersion) through the Canary strategy, without retraining",
        );
        // Each step of v1's canary was analysed: the rollback went through the strategy.
        const steps = (await modelEvents(ns, "RolloutStepAdvanced")).filter((n) => n.startsWith("v1 passed"));
        expect(steps.map((n) => n.slice(0, 20)).sort()).toEqual([
          "v1 passed step 1/3 a",
          "v1 passed step 2/3 a",
        ]);
        await waitForServiceVersions(ns, MODEL, ["v1", "v1"]);
        // Acted on once: the field stays, and nothing rolls out again.
        await new Promise((r) => setTimeout(r, 6_000));
        const settled = await getModel(ns, MODEL);
        expect(settled.status?.rollout).toMatchObject({ version: 1, phase: "Succeeded" });
        expect(settled.status?.stableVersion).toBe(1);
      } finally {
        expect(await client.stop()).toEqual([]);
      }
    },
    2 * TRAINED_MS + 4 * 60_000,
  );
});

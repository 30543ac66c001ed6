// Blue-green on the local cluster with real parts only, under continuous client load on the model's
// Service and, while a candidate is previewed, on its preview Service too. v2 is previewed, passes
// its analysis and waits for a person: spec.rollout.promoteVersion switches the Service to it, the
// post-promotion analysis passes and it is promoted. v3 is switched automatically once its preview
// passes, turns slow under live traffic and is rolled back by the Service's selector moving back to
// v2's pods, which were kept up for it. No client request fails.
import { describe, expect, it } from "vitest";
import { condition, patchSpec } from "../flows/lib/models.ts";
import { servedPods } from "../flows/lib/serving.ts";
import { kubectl } from "../support/kubectl.ts";
import {
  type Client,
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

const PREVIEW = `${MODEL}-preview`;
const SLOW_MS = 400;

describe("blue-green rollouts under load", () => {
  const served = useServedModel("e2e-bluegreen", {
    rollout: { strategy: "BlueGreen", blueGreen: { autoPromote: false, scaleDownDelaySeconds: 10 } },
    analysis: LIVE_CHECKS,
  });
  const ns = served.namespace;

  it(
    "previews v2, waits for spec.rollout.promoteVersion, switches, and promotes it after the post-promotion analysis",
    async () => {
      const client = await served.predictions();
      let preview: Client | undefined;
      try {
        await requestVersion(ns, 2);
        preview = await served.preview(2);
        const waiting = await waitForRollout(
          ns,
          2,
          "passed its preview analysis, waiting for approval",
          (r) => r.phase === "Paused",
        );
        expect(waiting.status?.rollout?.message).toMatch(
          /^v2 passed its preview analysis \(p95 latency [0-9.]+ ms <= 200 ms over [0-9]+ requests \[Passed\]; .*\); waiting for spec.rollout.promoteVersion: 2 to switch$/,
        );
        // Held for two more intervals: no switch without approval; live traffic stays on v1.
        await new Promise((r) => setTimeout(r, 10_000));
        const held = await waitForRollout(ns, 2, "still waiting", (r) => r.phase === "Paused");
        expect(held.status?.rollout).toMatchObject({ stepIndex: 0, weight: 0 });
        expect(await serviceVersions(ns, MODEL)).toEqual(["v1", "v1"]);
        expect(await serviceVersions(ns, PREVIEW)).toEqual(["v2", "v2"]);
        // The preview client reached v2's preview pods, and only them.
        const previewed = preview.answers.filter((a) => a.status === 200);
        expect(previewed.length).toBeGreaterThan(50);
        expect(previewed.every((a) => a.modelVersion === "v2" && a.track === "preview")).toBe(true);
        expect(client.answers.filter((a) => a.status === 200).every((a) => a.modelVersion === "v1")).toBe(
          true,
        );

        await patchSpec(ns, MODEL, { rollout: { promoteVersion: 2 } });
        await waitForRollout(ns, 2, "switched", (r) => r.stepIndex === 1);
        expect(await preview.stop()).toEqual([]);
        preview = undefined;
        await waitForServiceVersions(ns, MODEL, ["v2", "v2"], 15_000);
        const promoted = await waitForRollout(ns, 2, "promoted", (r) => r.phase === "Succeeded");
        expect(promoted.status?.stableVersion).toBe(2);
        expect((await modelEvents(ns, "TrafficShifted")).join("\n")).toMatch(
          /switched the Service to v2 \(spec.rollout.promoteVersion\); v1 kept at full size for 10 s/,
        );
        expect((await modelVersion(ns, 1))?.status?.stage).toBe("Archived");
        // The preview Deployment is gone; its Service stays, with no endpoints.
        await waitForServiceVersions(ns, PREVIEW, []);
      } finally {
        if (preview) await preview.stop();
        expect(await client.stop()).toEqual([]);
      }
    },
    TRAINED_MS + 3 * 60_000,
  );

  it(
    "switches v3 automatically once its preview passes, then rolls it back on p95 after the switch",
    async () => {
      const client = await served.predictions();
      let preview: Client | undefined;
      try {
        const stableBefore = await servedPods(ns, MODEL);
        await requestVersion(ns, 3, {
          rollout: { blueGreen: { autoPromote: true, scaleDownDelaySeconds: 60 } },
        });
        preview = await served.preview(3);
        const switched = await waitForRollout(ns, 3, "switched", (r) => r.stepIndex === 1);
        expect(switched.status?.rollout?.message).toMatch(
          /^switched the Service to v3 \(preview analysis passed: p95 latency .*\); v2 kept at full size for 60 s/,
        );
        expect(await preview.stop()).toEqual([]);
        preview = undefined;
        await waitForServiceVersions(ns, MODEL, ["v3", "v3"], 15_000);

        // Live traffic on v3 turns slow: the post-promotion analysis fails and the Service goes back.
        const deployment = `deployment/${MODEL}-predictor-preview`;
        await kubectl(["set", "env", "-n", ns, deployment, `CHAOS_LATENCY_MS=${SLOW_MS}`]);
        const rolledBack = await waitForRollout(
          ns,
          3,
          "rolled back",
          (r) => r.phase === "RolledBack",
          60_000,
        );
        await waitForServiceVersions(ns, MODEL, ["v2", "v2"], 15_000);
        const backAt = Date.now();
        const rollout = rolledBack.status?.rollout;
        console.log(
          `blue-green rollback: all endpoints on v2 ${backAt - Date.parse(rollout?.lastAnalysisAt ?? "")} ms after the failing measurement`,
        );
        const p95 = rollout?.analysis?.find((r) => r.check === "latencyP95Ms");
        expect(p95).toMatchObject({ verdict: "Failed", threshold: 200 });
        expect(p95?.value).toBeGreaterThan(200);
        expect(rolledBack.status?.stableVersion).toBe(2);
        expect(condition(rolledBack, "Degraded")).toMatchObject({ status: "True", reason: "RolledBack" });
        expect(
          (await modelEvents(ns, "RolledBack")).some((n) =>
            /^rolled back v3 at 100% after the switch: p95 latency [0-9.]+ ms > 200 ms/.test(n),
          ),
        ).toBe(true);
        expect((await modelVersion(ns, 3))?.status?.stage).toBe("Rejected");
        // The rollback was the Service moving back to v2's pods, kept up all along: none restarted.
        expect((await servedPods(ns, MODEL)).filter((p) => p.version === "v2").map((p) => p.uid)).toEqual(
          stableBefore.map((p) => p.uid),
        );
      } finally {
        if (preview) await preview.stop();
        expect(await client.stop()).toEqual([]);
      }
    },
    TRAINED_MS + 3 * 60_000,
  );
});

// A canary of an autoscaled model on the local cluster (its kube-controller-manager runs the HPA
// controller on real resource metrics), under a client sending bars at a steady rate. Sampled every
// second: the HPAs' bounds, the Deployments' replicas and status.rollout. Each track has its own
// HPA: the canary's bounds follow the weight and stable's count, the HPAs and the operator never
// write the same field, stable's HPA floor holds its capacity during the rollout and returns after,
// and an aborted canary's HPA goes with it, so nothing scales it back up.
import type { V1Deployment, V2HorizontalPodAutoscaler } from "@kubernetes/client-node";
import { describe, expect, it } from "vitest";
import { candidateBounds } from "../../../operator/src/traffic/replicas.ts";
import { getModel, patchSpec } from "../flows/lib/models.ts";
import { getJson } from "../support/kubectl.ts";
import { pods } from "../support/pods.ts";
import { waitFor } from "../support/wait.ts";
import {
  clientOn,
  LIVE_CHECKS,
  MODEL,
  type Rollout,
  requestVersion,
  TRAINED_MS,
  trades,
  useServedModel,
  waitForRollout,
} from "./support.ts";

const STABLE = `${MODEL}-predictor`;
const CANARY = `${MODEL}-predictor-canary`;
const MIN = 2;
const MAX = 4;

type Sample = {
  at: number;
  rollout?: Rollout;
  hpas: V2HorizontalPodAutoscaler[];
  stableReplicas?: number;
  canaryReplicas?: number;
  /** Who owns each Deployment's spec.replicas, as manager/operation. */
  replicasManagers: { stable: string[]; canary: string[] };
};

/** Who owns spec.replicas of a Deployment, by server-side apply's field managers (manager/operation). */
function replicasManagers(d: V1Deployment | undefined): string[] {
  return (d?.metadata?.managedFields ?? [])
    .filter((f) => JSON.stringify(f.fieldsV1 ?? {}).includes('"f:replicas"'))
    .map((f) => `${f.manager}/${f.operation}`);
}

const hpaOf = (s: Sample, deployment: string) =>
  s.hpas.find((h) => h.spec?.scaleTargetRef.name === deployment)?.spec;
const boundsOf = (s: Sample, deployment: string) => {
  const spec = hpaOf(s, deployment);
  return spec && [spec.minReplicas, spec.maxReplicas];
};

const promotedV2 = (s: Sample) => s.rollout?.version === 2 && s.rollout.phase === "Succeeded";

/** Samples the autoscaling picture every second until stopped. */
function sampler(namespace: string) {
  const samples: Sample[] = [];
  let stopped = false;
  const done = (async () => {
    while (!stopped) {
      const at = Date.now();
      try {
        const [model, deployments, hpas] = await Promise.all([
          getModel(namespace, MODEL),
          getJson<{ items: V1Deployment[] }>(["deployments", "-n", namespace]),
          getJson<{ items: V2HorizontalPodAutoscaler[] }>(["hpa", "-n", namespace]),
        ]);
        const named = (name: string) => deployments.items.find((d) => d.metadata?.name === name);
        samples.push({
          at,
          ...(model.status?.rollout ? { rollout: model.status.rollout } : {}),
          hpas: hpas.items,
          ...(named(STABLE) ? { stableReplicas: named(STABLE)?.spec?.replicas } : {}),
          ...(named(CANARY) ? { canaryReplicas: named(CANARY)?.spec?.replicas } : {}),
          replicasManagers: {
            stable: replicasManagers(named(STABLE)),
            canary: replicasManagers(named(CANARY)),
          },
        });
      } catch {
        // A slow apiserver skips a sample; the next one comes a second later.
      }
      await new Promise((r) => setTimeout(r, Math.max(0, at + 1_000 - Date.now())));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await done;
      return samples;
    },
  };
}

/** The samples as lines, one per change (the time of the first sample showing it). */
function timeline(samples: Sample[]): string {
  const lines: string[] = [];
  let last = "";
  for (const s of samples) {
    const hpas = s.hpas.map(
      (h) =>
        `${h.spec?.scaleTargetRef.name === STABLE ? "stable" : "canary"} ${h.spec?.minReplicas}..${h.spec?.maxReplicas}->${h.status?.desiredReplicas}`,
    );
    const line = `v${s.rollout?.version} ${s.rollout?.phase} w=${s.rollout?.desiredWeight} stable=${s.stableReplicas} canary=${s.canaryReplicas ?? "-"} hpa=${hpas.join(",")}`;
    if (line !== last) lines.push(`${new Date(s.at).toISOString().slice(14, 19)} ${line}`);
    last = line;
  }
  return lines.join("\n");
}

describe("a canary of an autoscaled model", () => {
  const served = useServedModel("e2e-autoscaling", {
    serving: {
      replicas: MIN,
      autoscaling: { minReplicas: MIN, maxReplicas: MAX, targetCPUUtilizationPercentage: 10 },
    },
    rollout: { strategy: "Canary", canary: { steps: [25, 50, 100] } },
    analysis: LIVE_CHECKS,
  });
  const ns = served.namespace;

  it(
    "sizes the canary from the weight and stable's count, without fighting the HPA, and never scales an aborted canary back up",
    async () => {
      const client = await clientOn(ns, MODEL, (address) =>
        trades(address, served.features, { perSecond: 30, feedback: false }),
      );
      const watch = sampler(ns);
      try {
        // v2 held at each step for a while under load, so the HPA has time to act during it.
        await requestVersion(ns, 2, { rollout: { paused: true } });
        await waitForRollout(
          ns,
          2,
          "paused at 25%",
          (r) => r.phase === "Paused" && (r.weight ?? 0) > 0,
          TRAINED_MS,
        );
        await new Promise((r) => setTimeout(r, 20_000));
        await patchSpec(ns, MODEL, { rollout: { paused: false } });
        await waitForRollout(ns, 2, "at its second step", (r) => r.stepIndex === 1 && (r.weight ?? 0) >= 50);
        await patchSpec(ns, MODEL, { rollout: { paused: true } });
        await new Promise((r) => setTimeout(r, 20_000));
        await patchSpec(ns, MODEL, { rollout: { paused: false } });
        await waitForRollout(ns, 2, "promoted", (r) => r.phase === "Succeeded");
        const promotedAt = Date.now();
        // After the promotion stable's HPA floor returns to the spec's (before v3 raises it again).
        await waitFor(
          "stable's HPA floor back to the spec's after the promotion",
          async () =>
            (await getJson<V2HorizontalPodAutoscaler>(["hpa", STABLE, "-n", ns])).spec?.minReplicas === MIN,
          { timeoutMs: 30_000 },
        );

        // The sampler has seen v2 promoted before v3 is asked for: v3's canary follows within
        // seconds, and a sample reads the model and the Deployments in separate requests.
        await waitFor("a sample of v2 promoted", async () => watch.samples.some(promotedV2) || undefined, {
          timeoutMs: 15_000,
        });
        const v3RequestedAt = Date.now();
        // v3 aborted at its first step: its pods go, and nothing brings them back.
        await requestVersion(ns, 3);
        await waitForRollout(ns, 3, "in its canary", (r) => (r.weight ?? 0) > 0, TRAINED_MS);
        await patchSpec(ns, MODEL, { rollout: { abortVersion: 3 } });
        await waitForRollout(ns, 3, "aborted", (r) => r.phase === "Aborted");
        const abortedAt = Date.now();
        await waitFor(
          "v3's canary pods gone",
          async () => (await pods(ns, "trading.mlops.dev/track=canary")).length === 0,
          { timeoutMs: 60_000 },
        );
        // Two HPA sync periods (15 s each) with the load still on.
        await new Promise((r) => setTimeout(r, 35_000));
        const samples = await watch.stop();
        console.log(timeline(samples));

        const during = (version: number) =>
          samples.filter(
            (s) => s.rollout?.version === version && ["Progressing", "Paused"].includes(s.rollout.phase),
          );
        const v2 = during(2);
        expect(v2.length).toBeGreaterThan(30);
        for (const s of v2) {
          // Stable's autoscaler: its floor at least stable's pods at the rollout's start.
          expect(hpaOf(s, STABLE)?.maxReplicas).toBe(MAX);
          expect(hpaOf(s, STABLE)?.minReplicas).toBeGreaterThanOrEqual(v2[0]?.rollout?.stableReplicas ?? MIN);
        }
        // Away from a change (a sample reads the model, the Deployments and the HPAs in three calls):
        // the canary's own HPA has the bounds the weight asks for beside stable's count, the status
        // counts the pods that HPA asked for (within them), and the canary Deployment is within them
        // but for one HPA sync (15 s) after a new step's weight or stable's growth raised its floor.
        const key = (s: Sample | undefined) =>
          JSON.stringify([
            s?.rollout?.desiredWeight,
            s?.rollout?.stableReplicas,
            s?.rollout?.candidateReplicas,
          ]);
        const steady = v2.filter((s, i) => i > 0 && key(v2[i - 1]) === key(s) && key(v2[i + 1]) === key(s));
        expect(steady.length).toBeGreaterThan(20);
        const boundsSince = new Map<Sample, number>();
        let lastBounds = "";
        let changedAt = 0;
        for (const s of samples) {
          const now = JSON.stringify(boundsOf(s, CANARY));
          if (now !== lastBounds) changedAt = s.at;
          lastBounds = now;
          boundsSince.set(s, changedAt);
        }
        const HPA_SYNC_MS = 15_000;
        let lagging = 0;
        for (const s of steady) {
          const r = s.rollout as Rollout;
          const asked = candidateBounds("canary", r.desiredWeight ?? 0, r.stableReplicas ?? 0, MAX);
          expect(boundsOf(s, CANARY)).toEqual([asked.minReplicas, asked.maxReplicas]);
          const count = s.canaryReplicas ?? 0;
          expect(r.candidateReplicas).toBe(Math.min(asked.maxReplicas, Math.max(asked.minReplicas, count)));
          if (count < asked.minReplicas || count > asked.maxReplicas) {
            lagging++;
            expect(s.at - (boundsSince.get(s) ?? 0)).toBeLessThan(HPA_SYNC_MS + 5_000);
          }
        }
        console.log(`steady v2 samples: ${steady.length}, the canary awaiting its HPA's sync in ${lagging}`);
        expect(new Set(v2.map((s) => s.rollout?.desiredWeight))).toEqual(new Set([25, 50]));
        expect(new Set(steady.map((s) => s.rollout?.desiredWeight))).toEqual(new Set([25, 50]));
        // Stable's capacity never dropped during the rollout. Only the HPAs set either Deployment's
        // replicas: the operator's applies never own them (its create may own the canary's first
        // count until the canary's HPA first changes it).
        const stableCounts = v2.map((s) => s.stableReplicas ?? 0);
        expect(stableCounts.every((n, i) => i === 0 || n >= (stableCounts[i - 1] ?? 0))).toBe(true);
        expect(
          samples.every((s) => !s.replicasManagers.stable.some((m) => m.startsWith("tradingmodel-operator"))),
        ).toBe(true);
        expect(samples.every((s) => !s.replicasManagers.canary.includes("tradingmodel-operator/Apply"))).toBe(
          true,
        );
        // The floor is capacity stable had, never more: a promotion's surge pods do not raise it.
        let most = 0;
        for (const s of samples.filter((x) => x.at < promotedAt)) {
          most = Math.max(most, s.stableReplicas ?? 0);
          expect(hpaOf(s, STABLE)?.minReplicas ?? 0).toBeLessThanOrEqual(Math.max(most, MIN));
        }

        // After the promotion the canary's HPA is gone (both go in the reconcile that writes
        // Succeeded), until v3 is asked for.
        const v2Promoted = samples.filter((s) => promotedV2(s) && s.at < v3RequestedAt);
        expect(v2Promoted.length).toBeGreaterThan(0);
        expect(
          v2Promoted.every((s) => hpaOf(s, CANARY) === undefined && s.canaryReplicas === undefined),
        ).toBe(true);
        // v3's canary had an HPA of its own before the abort.
        expect(during(3).some((s) => hpaOf(s, CANARY) !== undefined)).toBe(true);
        // The aborted canary stays at zero: no Deployment, no HPA of its own, no pod, to the end.
        const afterAbort = samples.filter((s) => s.at > abortedAt + 3_000);
        expect(afterAbort.length).toBeGreaterThan(20);
        expect(afterAbort.every((s) => s.canaryReplicas === undefined)).toBe(true);
        expect(afterAbort.every((s) => s.hpas.every((h) => h.spec?.scaleTargetRef.name === STABLE))).toBe(
          true,
        );
        expect(await pods(ns, "trading.mlops.dev/track=canary")).toEqual([]);
        expect((await getModel(ns, MODEL)).status?.stableVersion).toBe(2);
      } finally {
        await watch.stop();
        expect(await client.stop()).toEqual([]);
      }
    },
    TRAINED_MS + 6 * 60_000,
  );
});

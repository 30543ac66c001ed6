// No data on the local cluster: clients send predictions but no outcome ever comes back through
// /v1/feedback, so the accuracy check has no samples. Each onNoData policy does what it says:
// Wait holds the step for noDataLimit measurements and then rolls back, Fail rolls back at the
// first, Pass lets the rollout go on. A Prometheus stopped in the middle of an analysis is no data
// even under Pass, never a pass: the step is held until it is back. No client request fails.
import { spawn } from "node:child_process";
import { openSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { patchSpec } from "../flows/lib/models.ts";
import { e2eContext } from "../support/context.ts";
import { waitFor } from "../support/wait.ts";
import {
  type Client,
  MODEL,
  modelEvents,
  modelVersion,
  type Rollout,
  requestVersion,
  secondsBetween,
  TRAINED_MS,
  useServedModel,
  waitForRollout,
  waitForServiceVersions,
} from "./support.ts";

const INTERVAL_S = 5;
const NO_DATA_LIMIT = 2;

/** A process of the local cluster is gone once /proc says so or it is a zombie not yet reaped. */
function running(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, "utf8").split(" ")[2] !== "Z";
  } catch {
    return false;
  }
}

/**
 * Stops the local cluster's Prometheus (a host process, see test/cluster/services/services.sh) and
 * returns how to start it again: the same command line, in a session of its own, its pid where
 * cluster-down looks for it.
 */
async function stopPrometheus(clusterDir: string, url: string): Promise<() => Promise<void>> {
  const pidFile = join(clusterDir, "pids", "prometheus.pid");
  const pid = Number((await readFile(pidFile, "utf8")).trim());
  const argv = (await readFile(`/proc/${pid}/cmdline`, "utf8")).split("\0").filter(Boolean);
  process.kill(pid, "SIGTERM");
  await waitFor("Prometheus to exit", async () => !running(pid), { timeoutMs: 30_000 });
  return async () => {
    const log = openSync(join(clusterDir, "logs", "prometheus.log"), "a");
    const child = spawn(argv[0] as string, argv.slice(1), { detached: true, stdio: ["ignore", log, log] });
    child.unref();
    await writeFile(pidFile, `${child.pid}\n`);
    await waitFor(
      "Prometheus ready again",
      async () => (await fetch(`${url}/-/ready`, { signal: AbortSignal.timeout(2_000) })).ok,
      { timeoutMs: 60_000, intervalMs: 500 },
    );
  };
}

/** The notes about the analysis of one version ("analysis of v2 at …"). */
const forVersion = (notes: string[], version: number) => notes.filter((n) => n.includes(`of v${version} `));

describe("no data: onNoData and a stopped Prometheus", () => {
  const served = useServedModel("e2e-nodata", {
    rollout: { strategy: "Canary", canary: { steps: [25, 50, 100] } },
    analysis: {
      interval: `${INTERVAL_S}s`,
      window: "15s",
      minSamples: 20,
      onNoData: "Wait",
      noDataLimit: NO_DATA_LIMIT,
      failureLimit: 0,
      // Accuracy needs outcomes, and none come: every measurement of it has no data.
      accuracy: { min: 0.5 },
    },
  });
  const ns = served.namespace;
  let client: Client | undefined;

  beforeAll(async () => {
    client = await served.predictions();
    return async () => {
      expect(await client?.stop()).toEqual([]);
    };
  });

  const rolledBack = (version: number) =>
    waitForRollout(ns, version, "rolled back", (r) => r.phase === "RolledBack", TRAINED_MS);

  it(
    "Wait: holds the step for noDataLimit inconclusive measurements, then rolls back",
    async () => {
      await requestVersion(ns, 2);
      const model = await rolledBack(2);
      const rollout = model.status?.rollout as Rollout;
      expect(rollout.consecutiveNoData).toBe(NO_DATA_LIMIT + 1);
      expect(rollout.stepIndex).toBe(0);
      expect(rollout.analysis?.[0]).toMatchObject({ check: "accuracy", verdict: "NoData" });
      expect(rollout.analysis?.[0]?.message).toMatch(
        /^accuracy: 0 predictions with feedback < minSamples 20; waiting$/,
      );
      // noDataLimit measurements waited, one interval apart, before the one that rolled back.
      expect(secondsBetween(rollout.stepStartedAt, rollout.finishedAt)).toBeGreaterThanOrEqual(
        (NO_DATA_LIMIT + 1) * INTERVAL_S - 1,
      );
      const waited = forVersion(await modelEvents(ns, "AnalysisInconclusive"), 2);
      expect(waited.map((n) => /inconclusive \(([0-9]+)\/2\)/.exec(n)?.[1]).sort()).toEqual(["1", "2"]);
      expect(
        (await modelEvents(ns, "RolledBack")).some((n) =>
          /^rolled back v2 at 33% \(step 1\/3\): no data in 3 measurements in a row \(accuracy: 0 predictions with feedback < minSamples 20; waiting \[NoData\]\) > noDataLimit \(2\); all traffic back to v1$/.test(
            n,
          ),
        ),
      ).toBe(true);
      expect((await modelVersion(ns, 2))?.status?.stage).toBe("Rejected");
      await waitForServiceVersions(ns, MODEL, ["v1", "v1"], 30_000);
    },
    TRAINED_MS + 2 * 60_000,
  );

  it(
    "Fail: the first measurement without data fails, and the rollout is rolled back at once",
    async () => {
      await requestVersion(ns, 3, { analysis: { onNoData: "Fail" } });
      const model = await rolledBack(3);
      const rollout = model.status?.rollout as Rollout;
      expect(rollout.analysis?.[0]).toMatchObject({ check: "accuracy", verdict: "Failed" });
      expect(rollout.failures).toBe(1);
      expect(secondsBetween(rollout.stepStartedAt, rollout.finishedAt)).toBeLessThan(2 * INTERVAL_S + 1);
      expect(forVersion(await modelEvents(ns, "AnalysisInconclusive"), 3)).toEqual([]);
      expect((await modelVersion(ns, 3))?.status?.stageHistory?.at(-1)?.message).toBe(
        "accuracy: 0 predictions with feedback < minSamples 20; onNoData Fail [Failed]",
      );
      await waitForServiceVersions(ns, MODEL, ["v1", "v1"], 30_000);
    },
    TRAINED_MS + 2 * 60_000,
  );

  it(
    "Pass: steps pass without data; a Prometheus stopped mid-analysis holds the step until it is back",
    async ({ skip }) => {
      const { localClusterDir, prometheusUrl } = e2eContext();
      if (!localClusterDir) skip("the local cluster's Prometheus is a host process this test can stop");
      await requestVersion(ns, 4, { analysis: { onNoData: "Pass", noDataLimit: 12 } });
      // Step 1 passes on Pass; as soon as step 2 begins, Prometheus goes away.
      await waitForRollout(ns, 4, "past its first step", (r) => (r.stepIndex ?? 0) >= 1, TRAINED_MS);
      const restart = await stopPrometheus(localClusterDir, prometheusUrl);
      let restarted = false;
      try {
        const held = await waitForRollout(
          ns,
          4,
          "two measurements without Prometheus",
          (r) => (r.consecutiveNoData ?? 0) >= 2,
          60_000,
        );
        expect(held.status?.rollout).toMatchObject({ phase: "Progressing", stepIndex: 1 });
        expect(held.status?.rollout?.analysis?.[0]).toMatchObject({ check: "accuracy", verdict: "NoData" });
        expect(held.status?.rollout?.analysis?.[0]?.message).toMatch(
          /^accuracy unreadable: prometheus .*; waiting$/,
        );
        const advancedDuringOutage = await modelEvents(ns, "RolloutStepAdvanced");
        await restart();
        restarted = true;
        const promoted = await waitForRollout(ns, 4, "promoted", (r) => r.phase === "Succeeded", 90_000);
        expect(promoted.status?.stableVersion).toBe(4);
        // The step was passed only once Prometheus answered again, on Pass.
        expect(advancedDuringOutage.filter((n) => n.startsWith("v4 passed step 2/3"))).toEqual([]);
        const advanced = (await modelEvents(ns, "RolloutStepAdvanced")).filter((n) =>
          n.startsWith("v4 passed"),
        );
        expect(advanced).toHaveLength(2);
        expect(advanced.every((n) => /onNoData Pass \[Passed\]/.test(n))).toBe(true);
        expect(
          forVersion(await modelEvents(ns, "AnalysisInconclusive"), 4).some((n) =>
            /^analysis of v4 at [0-9]+% \(step 2\/3\) inconclusive \([0-9]+\/12\): accuracy unreadable: prometheus /.test(
              n,
            ),
          ),
        ).toBe(true);
        await waitForServiceVersions(ns, MODEL, ["v4", "v4"], 30_000);
      } finally {
        if (!restarted) await restart();
      }
      await patchSpec(ns, MODEL, { analysis: { onNoData: "Wait" } });
    },
    TRAINED_MS + 3 * 60_000,
  );
});

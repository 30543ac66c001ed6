// The gate on what a model would have earned: the example trained by the real trainer, but with
// transaction costs of 40 bps per unit traded. Its R² and directional accuracy pass the gate; its
// strategy loses money after costs on the holdout, so the version is Rejected with its numbers and
// nothing is served.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import {
  applyModel,
  condition,
  eventNotes,
  exampleModel,
  waitForModel,
  waitForVersion,
} from "./lib/models.ts";

const MODEL = "spy-momentum";
const JUDGED_WITHIN_MS = 6 * 60_000;

describe("the P&L gate", () => {
  const ns = useNamespace("e2e-flow-pnl-gate");
  let operator: OperatorProcess | undefined;

  beforeAll(installCrds);
  afterAll(async () => {
    if (operator) await stopOperator(operator, "SIGKILL");
  });

  it(
    "rejects a version whose strategy loses money after costs while its R² and hit rate pass",
    async () => {
      operator = startOperator({ identity: "op-pnl-gate", leaseNamespace: ns.name, watchNamespace: ns.name });
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      model.spec.training.strategy = { band: 0, positionLimit: 1, costBps: 40 };
      model.spec.training.backoffLimit = 0;
      model.spec.serving = { replicas: 1 };
      await applyModel(model);

      const v1 = await waitForVersion(
        ns.name,
        `${MODEL}-v1`,
        "judged by the gate",
        (v) => v.status?.gate !== undefined,
        {
          timeoutMs: JUDGED_WITHIN_MS,
        },
      );
      expect(v1.status?.stage).toBe("Rejected");
      const metrics = v1.status?.metrics;
      // The statistical thresholds of the example (R² >= 0, directional accuracy >= 0.52) pass.
      expect(metrics?.r2).toBeGreaterThan(0);
      expect(metrics?.directionalAccuracy).toBeGreaterThan(0.52);
      expect(metrics?.strategy?.hitRate).toBeGreaterThan(0.52);
      expect(metrics?.strategy?.sharpe).toBeLessThan(0);
      expect(metrics?.strategy?.cumulativeReturn).toBeLessThan(0);
      const sharpe = metrics?.strategy?.sharpe.toFixed(4);
      expect(v1.status?.gate?.message).toMatch(
        new RegExp(
          `^failed: Sharpe after costs ${sharpe} < 0\\.0000 \\(minSharpe\\); R² 0\\.\\d{4} >= 0\\.0000 \\(minR2\\)`,
        ),
      );
      const rejected = await waitForModel(ns.name, MODEL, "Failed", (m) => m.status?.phase === "Failed", {
        timeoutMs: 60_000,
      });
      expect(condition(rejected, "Degraded")?.reason).toBe("CandidateRejected");
      expect((await eventNotes(ns.name, "CandidateRejected")).join("\n")).toContain("Sharpe after costs");
      const deployments = await getJson<{ items: unknown[] }>(["deployment", "-n", ns.name]);
      expect(deployments.items).toEqual([]);
    },
    JUDGED_WITHIN_MS + 2 * 60_000,
  );
});

import { describe, expect, it } from "vitest";
import type { ModelVersion, TradingModel } from "../api/types.ts";
import { storedModel, storedVersion } from "../testing/fixtures.ts";
import { modelSnapshot, OperatorMetrics } from "./metrics.ts";

const ref = { namespace: "trading", name: "spy-momentum" };

function versionCreatedAt(version: number, time: string): ModelVersion {
  const v = storedVersion(version);
  return { ...v, metadata: { ...v.metadata, creationTimestamp: time } };
}

function withStatus(status: TradingModel["status"]): TradingModel {
  return { ...storedModel(), status };
}

/** The value of one series of a scrape; undefined when absent. */
async function sample(metrics: OperatorMetrics, name: string, labels: string): Promise<number | undefined> {
  const line = (await metrics.registry.metrics()).split("\n").find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.split(" ").pop());
}

describe("business metrics of the operator", () => {
  it("read weight, step, stable version and training times from the caches at scrape time", async () => {
    const metrics = new OperatorMetrics();
    let models: TradingModel[] = [
      withStatus({ stableVersion: 2, candidateVersion: 3, canaryWeight: 25, currentStep: 1 }),
    ];
    const versions = [
      versionCreatedAt(2, "2026-11-01T00:00:00Z"),
      versionCreatedAt(3, "2026-12-01T12:00:00Z"),
    ];
    metrics.observeModels(() => models.map((m) => modelSnapshot(m, versions)));
    const labels = 'namespace="trading",model="spy-momentum"';
    expect(await sample(metrics, "tradingmodel_canary_weight_percent", labels)).toBe(25);
    expect(await sample(metrics, "tradingmodel_rollout_step", labels)).toBe(1);
    expect(await sample(metrics, "tradingmodel_stable_version", labels)).toBe(2);
    expect(await sample(metrics, "tradingmodel_last_training_timestamp_seconds", labels)).toBe(
      Date.parse("2026-12-01T12:00:00Z") / 1000,
    );
    expect(await sample(metrics, "tradingmodel_stable_version_trained_timestamp_seconds", labels)).toBe(
      Date.parse("2026-11-01T00:00:00Z") / 1000,
    );

    // Promoted: no candidate, so no weight or step; the model deleted: no series at all.
    models = [withStatus({ stableVersion: 3, canaryWeight: 100 })];
    expect(await sample(metrics, "tradingmodel_canary_weight_percent", labels)).toBeUndefined();
    expect(await sample(metrics, "tradingmodel_stable_version", labels)).toBe(3);
    models = [];
    expect(await sample(metrics, "tradingmodel_stable_version", labels)).toBeUndefined();
  });

  it("start every model's rollout counters at 0, so increase() sees its first rollout", async () => {
    const metrics = new OperatorMetrics();
    metrics.observeModels(() => [modelSnapshot(withStatus({}), [])]);
    const labels = 'namespace="trading",model="spy-momentum"';
    expect(await sample(metrics, "tradingmodel_rollouts_started_total", `${labels},strategy="Canary"`)).toBe(
      0,
    );
    expect(
      await sample(metrics, "tradingmodel_rollouts_started_total", `${labels},strategy="BlueGreen"`),
    ).toBe(0);
    expect(await sample(metrics, "tradingmodel_rollouts_promoted_total", labels)).toBe(0);
    for (const reason of ["AnalysisFailed", "AnalysisInconclusive", "RolloutFailed", "RolloutAborted"]) {
      expect(
        await sample(metrics, "tradingmodel_rollouts_rolled_back_total", `${labels},reason="${reason}"`),
      ).toBe(0);
    }
    const rollout = {
      version: 2,
      strategy: "Canary",
      startedAt: "2026-12-01T00:00:00Z",
      stepIndex: 0,
    } as const;
    metrics.recordRolloutTransition(ref, undefined, { ...rollout, phase: "Progressing" });
    metrics.recordRolloutTransition(
      ref,
      { ...rollout, phase: "Progressing" },
      { ...rollout, phase: "Aborted" },
    );
    expect(await sample(metrics, "tradingmodel_rollouts_started_total", `${labels},strategy="Canary"`)).toBe(
      1,
    );
    expect(
      await sample(metrics, "tradingmodel_rollouts_rolled_back_total", `${labels},reason="RolloutAborted"`),
    ).toBe(1);
    expect(await sample(metrics, "tradingmodel_rollouts_promoted_total", labels)).toBe(0);
  });

  it("leave out what a model without versions cannot say", () => {
    expect(modelSnapshot(withStatus({}), [])).toEqual({ ref });
  });
});

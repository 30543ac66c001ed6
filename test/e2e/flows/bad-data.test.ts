// Bad training data after a good version: each attempt fails in the real trainer, the model turns
// Degraded with the trainer's own message, and what is served does not change at all.
import type { V1Deployment } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { apply, getJson } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import {
  applyModel,
  condition,
  eventNotes,
  exampleModel,
  modelVersions,
  patchSpec,
  type TradingModel,
  table,
  waitForModel,
  waitForStable,
} from "./lib/models.ts";
import { predictThroughService, type ServedPod, servedPods } from "./lib/serving.ts";

const MODEL = "spy-momentum";
const TRAINED_AND_SERVED_MS = 6 * 60_000;
const FAILED_WITHIN_MS = 4 * 60_000;
// Nothing listens on this port in the trainer pod's own network namespace: connections are refused.
const UNREACHABLE_URL = "http://127.0.0.1:49151/bars.csv";

/** `rows` one-minute bars of a gently oscillating price; `nanAt` (1-based) gets a NaN close. */
function barsCsv(rows: number, nanAt?: number): string {
  const lines = ["ts,open,high,low,close,volume"];
  let price = 100;
  for (let i = 1; i <= rows; i++) {
    price *= 1 + 0.001 * Math.sin(i);
    const p = price.toFixed(4);
    const close = i === nanAt ? "NaN" : p;
    lines.push(
      `${1_700_000_000_000 + i * 60_000},${p},${(price * 1.001).toFixed(4)},${(price * 0.999).toFixed(4)},${close},${1000 + i}`,
    );
  }
  return `${lines.join("\n")}\n`;
}

type Served = { pods: ServedPod[]; template: string; sha256: string };

async function served(namespace: string, features: string[]): Promise<Served> {
  const deployment = await getJson<V1Deployment>(["deployment", `${MODEL}-predictor`, "-n", namespace]);
  const { answers, model } = await predictThroughService(namespace, MODEL, features, 3);
  expect(answers.every((a) => a.modelVersion === "v1")).toBe(true);
  return {
    pods: await servedPods(namespace, MODEL),
    template: JSON.stringify(deployment.spec?.template),
    sha256: model.artifactSha256,
  };
}

describe("bad training data", () => {
  const ns = useNamespace("e2e-flow-bad-data");
  let operator: OperatorProcess | undefined;
  let features: string[] = [];
  let before: Served;

  beforeAll(installCrds);
  afterAll(async () => {
    if (operator) await stopOperator(operator, "SIGKILL");
  });

  it(
    "serves a good v1 first",
    async () => {
      operator = startOperator({ identity: "op-bad-data", leaseNamespace: ns.name, watchNamespace: ns.name });
      await apply({
        apiVersion: "v1",
        kind: "ConfigMap",
        metadata: { name: "bars", namespace: ns.name },
        data: { "nan.csv": barsCsv(300, 151), "few.csv": barsCsv(60) },
      });
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      const training = model.spec.training;
      // One attempt per version: a refused connection would fail the same way on every retry.
      training.backoffLimit = 0;
      model.spec.serving = { replicas: 1 };
      features = model.spec.features;
      await applyModel(model);
      await waitForStable(ns.name, MODEL, 1, TRAINED_AND_SERVED_MS);
      before = await served(ns.name, features);
      expect(before.pods.length).toBe(1);
    },
    TRAINED_AND_SERVED_MS + 2 * 60_000,
  );

  const cases: { what: string; data: Record<string, unknown>; reason: string; trainer: string[] }[] = [
    {
      what: "an unreachable URL",
      data: { synthetic: null, url: UNREACHABLE_URL },
      reason: "DataSourceUnavailable",
      trainer: ["train exited 3", `data source url ${UNREACHABLE_URL} unavailable after 4 attempts`],
    },
    {
      what: "a CSV with a NaN row (ConfigMap)",
      data: { url: null, configMapRef: { name: "bars", key: "nan.csv" } },
      reason: "InvalidTrainingInput",
      trainer: ["train exited 2", 'row 151, column "close": NaN is not finite'],
    },
    {
      what: "a CSV with too few rows (ConfigMap)",
      data: { configMapRef: { name: "bars", key: "few.csv" } },
      reason: "InvalidTrainingInput",
      trainer: ["train exited 2", "too few rows: 60; need at least 100"],
    },
  ];

  it.each(cases.map((c, i) => [c.what, { ...c, version: i + 2 }] as const))(
    "%s: Degraded with the trainer's message, nothing served changes",
    async (_what, c) => {
      await patchSpec(ns.name, MODEL, { training: { data: c.data } });
      const model: TradingModel = await waitForModel(
        ns.name,
        MODEL,
        `v${c.version} to fail`,
        (m) =>
          m.status?.training?.version === c.version &&
          m.status.training.state === "Failed" &&
          condition(m, "Degraded")?.status === "True",
        { timeoutMs: FAILED_WITHIN_MS },
      );
      const degraded = condition(model, "Degraded");
      expect(degraded?.reason).toBe(c.reason);
      for (const text of c.trainer) expect(degraded?.message).toContain(text);
      expect(degraded?.message).toMatch(
        new RegExp(`^training v${c.version} failed: .*; the served version is unchanged$`),
      );
      expect(model.status?.phase).toBe("Degraded");
      expect(model.status?.stableVersion).toBe(1);
      expect(condition(model, "Ready")).toMatchObject({ status: "True", reason: "Serving" });
      const notes = (await eventNotes(ns.name, c.reason)).join("\n");
      for (const text of c.trainer) expect(notes).toContain(text);
      const [row] = await table(ns.name, "tm");
      expect(row).toMatchObject({ NAME: MODEL, PHASE: "Degraded", STABLE: "1" });

      // No ModelVersion for a failed training, and the served version is exactly as before.
      expect((await modelVersions(ns.name)).map((v) => v.spec.version)).toEqual([1]);
      expect(await served(ns.name, features)).toEqual(before);
    },
    FAILED_WITHIN_MS + 60_000,
  );
});

// The operator is a host process here, so that the test can kill it outright (SIGKILL: no Lease
// release, no goodbye) in the middle of a training and start another in its place.
import type { V1Job } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installCrds, type OperatorProcess, startOperator, stopOperator } from "../operator/support.ts";
import { getJson, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { waitFor } from "../support/wait.ts";
import { applyModel, exampleModel, getModel, modelVersions, patchSpec, waitForStable } from "./lib/models.ts";
import { predictThroughService } from "./lib/serving.ts";

const MODEL = "spy-momentum";
const TRAINED_AND_SERVED_MS = 6 * 60_000;
/** Everything the operator creates for a model carries its label; the GC must leave none. */
const OWNED_KINDS =
  "jobs,configmaps,deployments,replicasets,pods,services,horizontalpodautoscalers,modelversions,serviceaccounts,roles,rolebindings";

async function jobs(namespace: string): Promise<V1Job[]> {
  return (await getJson<{ items: V1Job[] }>(["jobs", "-n", namespace])).items;
}

async function ownedObjects(namespace: string): Promise<string[]> {
  const out = await kubectl([
    "get",
    OWNED_KINDS,
    "-n",
    namespace,
    "-l",
    `trading.mlops.dev/model=${MODEL}`,
    "-o",
    "name",
  ]);
  return out.split("\n").filter((l) => l !== "");
}

describe("an operator killed during training, and deleting the model", () => {
  const ns = useNamespace("e2e-flow-resume");
  const operators: OperatorProcess[] = [];

  beforeAll(installCrds);
  afterAll(async () => {
    await Promise.all(operators.map((op) => stopOperator(op, "SIGKILL")));
  });

  it(
    "a replacement operator resumes the training, registers and serves it without a second Job, and numbers the next version 2",
    async () => {
      const first = startOperator({
        identity: "op-killed",
        leaseNamespace: ns.name,
        watchNamespace: ns.name,
      });
      operators.push(first);
      const model = await exampleModel("spy-momentum.yaml", ns.name);
      await applyModel(model);

      const job = await waitFor("the training Job of v1", async () => (await jobs(ns.name))[0], {
        timeoutMs: 60_000,
      });
      await stopOperator(first, "SIGKILL");
      expect(job.metadata?.name).toBe(`${MODEL}-train-v1`);
      // Killed while the Job had not finished: the replacement finds it running or done meanwhile.
      const atKill = await getJson<V1Job>(["job", `${MODEL}-train-v1`, "-n", ns.name]);
      expect(atKill.status?.completionTime).toBeUndefined();

      // The replacement waits out the dead leader's Lease (15 s), then works from what it observes.
      const second = startOperator({
        identity: "op-replacement",
        leaseNamespace: ns.name,
        watchNamespace: ns.name,
      });
      operators.push(second);
      const ready = await waitForStable(ns.name, MODEL, 1, TRAINED_AND_SERVED_MS);
      expect(ready.status?.latestVersion).toBe(1);
      const after = await jobs(ns.name);
      expect(after.map((j) => j.metadata?.uid)).toEqual([job.metadata?.uid]);
      expect(after[0]?.status?.succeeded).toBe(1);
      expect((await modelVersions(ns.name)).map((v) => [v.metadata.name, v.status?.stage])).toEqual([
        [`${MODEL}-v1`, "Production"],
      ]);

      // The next training, asked for declaratively, is v2 with v1 as its parent and champion; its
      // canary is skipped (promoteVersion), as this operator has no Prometheus to analyse it with.
      await patchSpec(ns.name, MODEL, {
        training: { retrainRequest: "after-restart" },
        rollout: { promoteVersion: 2 },
      });
      const v2 = await waitForStable(ns.name, MODEL, 2, TRAINED_AND_SERVED_MS);
      expect(v2.status?.latestVersion).toBe(2);
      expect((await jobs(ns.name)).map((j) => j.metadata?.name).sort()).toEqual([
        `${MODEL}-train-v1`,
        `${MODEL}-train-v2`,
      ]);
      const versions = await modelVersions(ns.name);
      expect(versions.map((v) => [v.metadata.name, v.spec.parentVersion, v.status?.stage])).toEqual([
        [`${MODEL}-v1`, undefined, "Archived"],
        [`${MODEL}-v2`, 1, "Production"],
      ]);
      const { answers } = await predictThroughService(ns.name, MODEL, model.spec.features, 3);
      expect(answers.every((a) => a.modelVersion === "v2")).toBe(true);
    },
    2 * TRAINED_AND_SERVED_MS + 2 * 60_000,
  );

  it(
    "deleting the TradingModel garbage-collects everything it owned",
    async () => {
      const owned = await ownedObjects(ns.name);
      const kinds = new Set(owned.map((name) => name.split("/")[0]));
      for (const kind of [
        "job.batch",
        "configmap",
        "deployment.apps",
        "service",
        "horizontalpodautoscaler.autoscaling",
        "modelversion.trading.mlops.dev",
        "serviceaccount",
        "role.rbac.authorization.k8s.io",
        "rolebinding.rbac.authorization.k8s.io",
      ]) {
        expect(kinds, `before the delete: ${owned.join(", ")}`).toContain(kind);
      }

      await kubectl(["delete", "tm", MODEL, "-n", ns.name, "--wait=false"]);
      await waitFor(
        "the garbage collector to remove everything the model owned",
        async () => {
          const left = await ownedObjects(ns.name);
          if (left.length > 0) throw new Error(`left: ${left.join(", ")}`);
          return true;
        },
        { timeoutMs: 120_000, intervalMs: 1_000 },
      );
      await expect(getModel(ns.name, MODEL)).rejects.toThrow(/NotFound/);
    },
    3 * 60_000,
  );
});

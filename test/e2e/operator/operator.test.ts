import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { V1Job, V1Lease } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { getJson, kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { waitFor } from "../support/wait.ts";
import {
  exampleIn,
  gauge,
  installCrds,
  type OperatorProcess,
  repoRoot,
  startOperator,
  stopOperator,
} from "./support.ts";

const example = (namespace: string) =>
  exampleIn(readFileSync(resolve(repoRoot, "examples/spy-momentum.yaml"), "utf8"), namespace);

interface TradingModelJson {
  metadata: { generation: number; uid: string };
  status?: {
    observedGeneration?: number;
    phase?: string;
    conditions?: { type: string; observedGeneration: number }[];
  };
}

describe("the operator against the local control plane", () => {
  const ns = useNamespace("e2e-op");
  const operators: OperatorProcess[] = [];

  beforeAll(installCrds);

  afterAll(async () => {
    await Promise.all(operators.map((op) => stopOperator(op, "SIGKILL")));
  });

  it("trains the example in a restricted Job, writes status with observedGeneration, and the garbage collector removes everything on delete", async () => {
    const op = startOperator({ identity: "op-a", leaseNamespace: ns.name, watchNamespace: ns.name });
    operators.push(op);
    await kubectl(["apply", "-f", "-"], { input: example(ns.name) });

    const job = await waitFor(
      "the training Job",
      async () => (await getJson<{ items: V1Job[] }>(["-n", ns.name, "jobs"])).items[0],
      { timeoutMs: 30_000 },
    );
    expect(job.metadata?.name).toBe("spy-momentum-train-v1");
    expect(job.metadata?.ownerReferences?.[0]).toMatchObject({
      kind: "TradingModel",
      name: "spy-momentum",
      controller: true,
    });
    const pod = job.spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(pod?.automountServiceAccountToken).toBe(false);
    for (const container of [...(pod?.initContainers ?? []), ...(pod?.containers ?? [])]) {
      expect(container.securityContext).toMatchObject({
        allowPrivilegeEscalation: false,
        readOnlyRootFilesystem: true,
        capabilities: { drop: ["ALL"] },
      });
      expect(container.resources?.limits).toBeDefined();
    }
    expect(job.spec).toMatchObject({ backoffLimit: 2, activeDeadlineSeconds: 900 });

    const model = await waitFor(
      "status with observedGeneration",
      async () => {
        const tm = await getJson<TradingModelJson>(["-n", ns.name, "tm", "spy-momentum"]);
        return tm.status?.observedGeneration === tm.metadata.generation ? tm : undefined;
      },
      { timeoutMs: 30_000 },
    );
    expect(model.status?.phase).toBe("Training");
    expect(model.status?.conditions?.map((c) => [c.type, c.observedGeneration]).sort()).toEqual([
      ["Degraded", 1],
      ["Monitored", 1],
      ["Progressing", 1],
      ["Ready", 1],
      ["Training", 1],
    ]);
    const managers = await kubectl([
      "-n",
      ns.name,
      "get",
      "tm",
      "spy-momentum",
      "--show-managed-fields",
      "-o",
      "jsonpath={.metadata.managedFields[*].manager}",
    ]);
    expect(managers.split(" ")).toContain("tradingmodel-operator");
    const events = await waitFor(
      "a TrainingStarted event",
      async () => {
        const out = await kubectl([
          "-n",
          ns.name,
          "get",
          "events.events.k8s.io",
          "-o",
          'jsonpath={range .items[*]}{.reason}|{.note}|{.reportingController}{"\\n"}{end}',
        ]);
        return out.includes("TrainingStarted") ? out : undefined;
      },
      { timeoutMs: 15_000 },
    );
    expect(events).toContain(
      "TrainingStarted|training v1 in Job spy-momentum-train-v1 (first version)|trading.mlops.dev/tradingmodel-operator",
    );

    await kubectl(["-n", ns.name, "delete", "tm", "spy-momentum", "--wait=false"]);
    await waitFor(
      "the garbage collector to remove the Job, trainer ServiceAccount, Role and RoleBinding",
      async () => {
        const left = await kubectl([
          "-n",
          ns.name,
          "get",
          "jobs,roles,rolebindings,serviceaccounts",
          "-l",
          "trading.mlops.dev/model=spy-momentum",
          "-o",
          "name",
        ]);
        return left.trim() === "" ? true : undefined;
      },
      { timeoutMs: 60_000 },
    );
    expect(await stopOperator(op)).toBe(0);
  });

  it("lets one of two operators lead; the other takes over when the leader is killed", async () => {
    const a = startOperator({ identity: "op-1", leaseNamespace: ns.name, watchNamespace: ns.name });
    const b = startOperator({ identity: "op-2", leaseNamespace: ns.name, watchNamespace: ns.name });
    operators.push(a, b);
    const lease = () => getJson<V1Lease>(["-n", ns.name, "lease", "tradingmodel-operator"]);
    const first = await waitFor(
      "a leader",
      async () => {
        const holder = (await lease()).spec?.holderIdentity;
        return holder === "op-1" || holder === "op-2" ? holder : undefined;
      },
      { timeoutMs: 30_000 },
    );
    const [leader, standby] = first === "op-1" ? [a, b] : [b, a];
    await waitFor(
      "the leader gauge",
      async () => (gauge(await leader.metrics(), "tradingmodel_operator_leader") === 1 ? true : undefined),
      { timeoutMs: 10_000 },
    );
    // Over a few renewals, the standby never leads.
    await new Promise((r) => setTimeout(r, 5_000));
    expect(gauge(await standby.metrics(), "tradingmodel_operator_leader")).toBe(0);
    expect((await lease()).spec?.holderIdentity).toBe(leader.identity);

    const killedAt = Date.now();
    await stopOperator(leader, "SIGKILL");
    await waitFor(
      "the standby to take over",
      async () => ((await lease()).spec?.holderIdentity === standby.identity ? true : undefined),
      { timeoutMs: 40_000 },
    );
    const takeoverMs = Date.now() - killedAt;
    // A killed leader cannot release the Lease: the standby waits out the 15 s lease duration.
    expect(takeoverMs).toBeGreaterThanOrEqual(10_000);
    expect(takeoverMs).toBeLessThan(30_000);
    expect((await lease()).spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    await waitFor(
      "the new leader's gauge",
      async () => (gauge(await standby.metrics(), "tradingmodel_operator_leader") === 1 ? true : undefined),
      { timeoutMs: 10_000 },
    );

    // A leader stopped by SIGTERM releases the Lease at once.
    expect(await stopOperator(standby)).toBe(0);
    expect((await lease()).spec?.holderIdentity).toBe("");
  });
});

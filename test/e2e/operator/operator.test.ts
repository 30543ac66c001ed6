import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import type { V1Job, V1Lease } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse, stringify } from "yaml";
import {
  gauge,
  installCrds,
  kubectl,
  kubectlJson,
  type OperatorProcess,
  repoRoot,
  startOperator,
  stopOperator,
  testNamespace,
  waitFor,
} from "./support.ts";

/** The example TradingModel, in the test's namespace. */
function example(namespace: string): string {
  const model = parse(readFileSync(resolve(repoRoot, "examples/spy-momentum.yaml"), "utf8"));
  model.metadata.namespace = namespace;
  return stringify(model);
}

interface TradingModelJson {
  metadata: { generation: number; uid: string };
  status?: {
    observedGeneration?: number;
    phase?: string;
    conditions?: { type: string; observedGeneration: number }[];
  };
}

describe("the operator against the local control plane", () => {
  let namespace = "";
  const operators: OperatorProcess[] = [];

  beforeAll(async () => {
    await installCrds();
    namespace = await testNamespace("e2e-op");
  });

  afterAll(async () => {
    await Promise.all(operators.map((op) => stopOperator(op, "SIGKILL")));
    if (namespace) await kubectl(["delete", "namespace", namespace, "--wait=false"]);
  });

  it("trains the example in a restricted Job, writes status with observedGeneration, and the garbage collector removes everything on delete", async () => {
    const op = startOperator({ identity: "op-a", leaseNamespace: namespace, watchNamespace: namespace });
    operators.push(op);
    await kubectl(["apply", "-f", "-"], example(namespace));

    const job = await waitFor(
      "the training Job",
      async () => (await kubectlJson<{ items: V1Job[] }>(["-n", namespace, "get", "jobs"])).items[0],
      30_000,
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
        const tm = await kubectlJson<TradingModelJson>(["-n", namespace, "get", "tm", "spy-momentum"]);
        return tm.status?.observedGeneration === tm.metadata.generation ? tm : undefined;
      },
      30_000,
    );
    expect(model.status?.phase).toBe("Training");
    expect(model.status?.conditions?.map((c) => [c.type, c.observedGeneration]).sort()).toEqual([
      ["Degraded", 1],
      ["Progressing", 1],
      ["Ready", 1],
      ["Training", 1],
    ]);
    const managers = await kubectl([
      "-n",
      namespace,
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
          namespace,
          "get",
          "events.events.k8s.io",
          "-o",
          'jsonpath={range .items[*]}{.reason}|{.note}|{.reportingController}{"\\n"}{end}',
        ]);
        return out.includes("TrainingStarted") ? out : undefined;
      },
      15_000,
    );
    expect(events).toContain(
      "TrainingStarted|training v1 in Job spy-momentum-train-v1 (first version)|trading.mlops.dev/tradingmodel-operator",
    );

    await kubectl(["-n", namespace, "delete", "tm", "spy-momentum", "--wait=false"]);
    await waitFor(
      "the garbage collector to remove the Job, trainer ServiceAccount, Role and RoleBinding",
      async () => {
        const left = await kubectl([
          "-n",
          namespace,
          "get",
          "jobs,roles,rolebindings,serviceaccounts",
          "-l",
          "trading.mlops.dev/model=spy-momentum",
          "-o",
          "name",
        ]);
        return left.trim() === "" ? true : undefined;
      },
      60_000,
    );
    expect(await stopOperator(op)).toBe(0);
  });

  it("lets one of two operators lead; the other takes over when the leader is killed", async () => {
    const a = startOperator({ identity: "op-1", leaseNamespace: namespace, watchNamespace: namespace });
    const b = startOperator({ identity: "op-2", leaseNamespace: namespace, watchNamespace: namespace });
    operators.push(a, b);
    const lease = () => kubectlJson<V1Lease>(["-n", namespace, "get", "lease", "tradingmodel-operator"]);
    const first = await waitFor(
      "a leader",
      async () => {
        const holder = (await lease()).spec?.holderIdentity;
        return holder === "op-1" || holder === "op-2" ? holder : undefined;
      },
      30_000,
    );
    const [leader, standby] = first === "op-1" ? [a, b] : [b, a];
    await waitFor(
      "the leader gauge",
      async () => (gauge(await leader.metrics(), "tradingmodel_operator_leader") === 1 ? true : undefined),
      10_000,
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
      40_000,
    );
    const takeoverMs = Date.now() - killedAt;
    // A killed leader cannot release the Lease: the standby waits out the 15 s lease duration.
    expect(takeoverMs).toBeGreaterThanOrEqual(10_000);
    expect(takeoverMs).toBeLessThan(30_000);
    expect((await lease()).spec?.leaseTransitions).toBeGreaterThanOrEqual(1);
    await waitFor(
      "the new leader's gauge",
      async () => (gauge(await standby.metrics(), "tradingmodel_operator_leader") === 1 ? true : undefined),
      10_000,
    );

    // A leader stopped by SIGTERM releases the Lease at once.
    expect(await stopOperator(standby)).toBe(0);
    expect((await lease()).spec?.holderIdentity).toBe("");
  });
});

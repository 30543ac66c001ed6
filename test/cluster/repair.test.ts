// A make cluster-up that failed half-way is repaired by the next one: each stage of the whole
// cluster (control plane, node agent, the services on the nodes) fails once, through
// TM_FAIL_AT_STAGE, and the run after it has to get past that stage; the run after the last
// failure brings up a cluster that works. A cluster one of whose processes died is started again.
//
// The services on the nodes are one set per machine (kube-proxy owns the host's KUBE-* chains),
// so this needs the machine without another local cluster (make cluster-down).
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  clusterScript,
  kubectl,
  newControlPlane,
  runCommand,
} from "./control-plane-harness.ts";

const STAGES = [
  "build",
  "pki",
  "etcd",
  "kube-apiserver",
  "kube-controller-manager",
  "kube-scheduler",
  "node-agent",
  "crds",
  "host-network",
  "kube-proxy",
  "coredns",
  "service-proxy",
  "alertmanager",
  "prometheus",
  "metrics-server",
  "ready",
];
const SERVICE_PORTS = [9090, 9093, 10300, 10256, 8181];
const svcAddr = join(import.meta.dirname, "svc-addr");

let cluster: ControlPlane;

function up(failAt?: string) {
  const env = { ...cluster.env, TM_NODE_AGENT: "1", TM_FAIL_AT_STAGE: failAt ?? "" };
  return runCommand(join(import.meta.dirname, "up.sh"), [], { env, timeoutMs: 300_000 });
}

/** The stage names a run logged, in order ("cluster: [k/N] name"). */
function stagesRun(stderr: string): string[] {
  return [...stderr.matchAll(/^cluster: \[\d+\/\d+\] (\S+)$/gm)].map((match) => match[1] as string);
}

/** What a user of the cluster relies on: Ready nodes, the service proxy's map, Prometheus by its Service. */
async function expectWorkingCluster() {
  const nodes = await kubectl(cluster, ["wait", "--for=condition=Ready", "node", "--all", "--timeout=30s"]);
  expect(nodes.code, nodes.stderr).toBe(0);
  const proxyMap = await kubectl(cluster, [
    "get",
    "configmap",
    "tm-service-proxy",
    "--namespace=kube-system",
  ]);
  expect(proxyMap.code, proxyMap.stderr).toBe(0);
  const address = await runCommand(
    svcAddr,
    ["monitoring", "prometheus", "web", "--kubeconfig", cluster.kubeconfig],
    {
      timeoutMs: 30_000,
    },
  );
  expect(address.code, address.stderr).toBe(0);
  const ready = await fetch(`http://${address.stdout.trim()}/-/ready`, {
    signal: AbortSignal.timeout(5_000),
  });
  expect(ready.status).toBe(200);
}

beforeAll(async () => {
  const busy = await runCommand(
    "ss",
    ["-Hltn", `( ${SERVICE_PORTS.map((p) => `sport = :${p}`).join(" or ")} )`],
    {
      timeoutMs: 5_000,
    },
  );
  if (busy.stdout.trim() !== "") {
    throw new Error(
      `another local cluster's services listen on this machine (make cluster-down first):\n${busy.stdout}`,
    );
  }
  cluster = await newControlPlane();
});

afterAll(async () => {
  if (cluster !== undefined) await clusterScript(cluster, "down");
}, 120_000);

describe("make cluster-up after a failed one", () => {
  it("gets past every stage that failed the time before, and ends with a working cluster", async () => {
    for (const stage of STAGES) {
      const failed = await up(stage);
      expect(failed.code, failed.stderr).not.toBe(0);
      expect(failed.stderr).toContain(`failing at stage ${stage}, as TM_FAIL_AT_STAGE asks`);
      expect(failed.stderr).toContain("make cluster-up again clears what it left and starts over");
      expect(stagesRun(failed.stderr)).toEqual(STAGES.slice(0, STAGES.indexOf(stage) + 1));
    }
    const repaired = await up();
    expect(repaired.code, repaired.stderr).toBe(0);
    expect(repaired.stderr).not.toContain("already up");
    expect(stagesRun(repaired.stderr)).toEqual(STAGES);
    await expectWorkingCluster();

    const again = await up();
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("already up");
  }, 600_000);

  it("starts the cluster again when one of its processes died", async () => {
    const pid = Number(await readFile(join(cluster.stateDir, "pids", "service-proxy.pid"), "utf8"));
    process.kill(-pid, "SIGKILL");
    const restarted = await up();
    expect(restarted.code, restarted.stderr).toBe(0);
    expect(restarted.stderr).toContain("no longer running: service-proxy");
    await expectWorkingCluster();
  }, 300_000);
});

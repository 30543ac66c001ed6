// The local control plane as its users meet it: make cluster-up gives a healthy apiserver that
// enforces RBAC and node identities, controllers and a scheduler that act on what is created, the
// CRDs users have, and make cluster-down leaves nothing running.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ControlPlane,
  clusterScript,
  eventually,
  kubectl,
  newControlPlane,
  runCommand,
} from "./control-plane-harness.ts";

const run = promisify(execFile);
const components = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];

let cluster: ControlPlane;
const pids = new Map<string, number>();

/** Zombies count as gone: this VM's init reaps exited processes only every few seconds. */
function isAlive(pid: number): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return false;
  }
  // The state letter follows the command name, which /proc writes in parentheses.
  return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z";
}

async function apply(manifest: object, kubeconfig?: string) {
  const file = join(cluster.stateDir, `manifest-${Date.now()}-${Math.random()}.json`);
  await writeFile(file, JSON.stringify(manifest));
  return kubectl(cluster, ["apply", "-f", file], kubeconfig);
}

async function getJson(args: string[]): Promise<Record<string, unknown> | undefined> {
  const result = await kubectl(cluster, ["get", ...args, "-o", "json"]);
  return result.code === 0 ? (JSON.parse(result.stdout) as Record<string, unknown>) : undefined;
}

/** A kubeconfig for a user the cluster CA vouches for and no binding names. */
async function kubeconfigForUser(user: string): Promise<string> {
  const pki = cluster.pkiDir;
  const key = join(pki, `${user}.key`);
  const cert = join(pki, `${user}.crt`);
  const csr = join(pki, `${user}.csr`);
  await run(
    "openssl",
    ["req", "-new", "-nodes", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"].concat([
      "-subj",
      `/CN=${user}`,
      "-keyout",
      key,
      "-out",
      csr,
    ]),
  );
  await run(
    "openssl",
    ["x509", "-req", "-in", csr, "-CA", join(pki, "ca.crt"), "-CAkey", join(pki, "ca.key")].concat([
      "-days",
      "1",
      "-set_serial",
      "7",
      "-out",
      cert,
    ]),
  );
  const kubeconfig = join(cluster.stateDir, `${user}.kubeconfig`);
  const server = `https://127.0.0.1:${cluster.apiserverPort}`;
  const config = `apiVersion: v1
kind: Config
clusters: [{name: local, cluster: {server: "${server}", certificate-authority: "${join(pki, "ca.crt")}"}}]
users: [{name: ${user}, user: {client-certificate: "${cert}", client-key: "${key}"}}]
contexts: [{name: ${user}, context: {cluster: local, user: ${user}}}]
current-context: ${user}
`;
  await writeFile(kubeconfig, config);
  return kubeconfig;
}

beforeAll(async () => {
  cluster = await newControlPlane();
  const up = await clusterScript(cluster, "up");
  expect(up.code, up.stderr).toBe(0);
  for (const component of components) {
    pids.set(component, Number(await readFile(join(cluster.stateDir, "pids", `${component}.pid`), "utf8")));
  }
}, 600_000);

afterAll(async () => {
  // Stops the cluster if a test failed before the cluster-down test ran.
  if (cluster !== undefined && existsSync(cluster.stateDir)) await clusterScript(cluster, "down");
}, 120_000);

describe("make cluster-up", () => {
  it("serves a ready apiserver to the admin kubeconfig", async () => {
    const readyz = await kubectl(cluster, ["get", "--raw", "/readyz"]);
    expect(readyz).toMatchObject({ code: 0, stdout: "ok" });
    const version = await kubectl(cluster, ["version", "-o", "json"]);
    const serverVersion = (JSON.parse(version.stdout) as { serverVersion: { gitVersion: string } })
      .serverVersion;
    expect(serverVersion.gitVersion).toMatch(/^v1\.36\.\d+$/);
  });

  it("is a no-op when the cluster is already up", async () => {
    const again = await clusterScript(cluster, "up");
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toContain("already up");
    expect(Number(await readFile(join(cluster.stateDir, "pids", "kube-apiserver.pid"), "utf8"))).toBe(
      pids.get("kube-apiserver"),
    );
  });

  it("forbids a user RBAC grants nothing, and allows what a RoleBinding grants", async () => {
    const kubeconfig = await kubeconfigForUser("tm-nobody");
    const denied = await kubectl(cluster, ["get", "pods", "--namespace=default"], kubeconfig);
    expect(denied.code).not.toBe(0);
    expect(denied.stderr).toContain('User "tm-nobody" cannot list resource "pods"');

    const grant = await kubectl(
      cluster,
      ["create", "rolebinding", "tm-nobody-view", "--clusterrole=view"].concat([
        "--user=tm-nobody",
        "--namespace=default",
      ]),
    );
    expect(grant.code, grant.stderr).toBe(0);
    const allowed = await eventually("the RoleBinding to take effect", 10_000, async () => {
      const attempt = await kubectl(cluster, ["get", "pods", "--namespace=default"], kubeconfig);
      return attempt.code === 0 ? attempt : undefined;
    });
    expect(allowed.code).toBe(0);
    const stillDenied = await kubectl(cluster, ["get", "pods", "--namespace=kube-system"], kubeconfig);
    expect(stillDenied.stderr).toContain(
      'cannot list resource "pods" in API group "" in the namespace "kube-system"',
    );
  });

  it("runs the controllers: a Deployment gets its ReplicaSet and Pods, which stay Pending with no nodes", async () => {
    const created = await apply({
      apiVersion: "apps/v1",
      kind: "Deployment",
      metadata: { name: "web", namespace: "default" },
      spec: {
        replicas: 2,
        selector: { matchLabels: { app: "web" } },
        template: {
          metadata: { labels: { app: "web" } },
          spec: { containers: [{ name: "web", image: "tm.local/web:1" }] },
        },
      },
    });
    expect(created.code, created.stderr).toBe(0);

    const replicaSets = await eventually("a ReplicaSet owned by the Deployment", 30_000, async () => {
      const list = (await getJson(["replicasets", "--namespace=default", "--selector=app=web"])) as
        | { items: { metadata: { ownerReferences?: { kind: string; name: string }[] } }[] }
        | undefined;
      return list !== undefined && list.items.length > 0 ? list.items : undefined;
    });
    expect(replicaSets[0]?.metadata.ownerReferences).toEqual([
      expect.objectContaining({ kind: "Deployment", name: "web" }),
    ]);

    type Pod = {
      status: { phase: string; conditions?: { type: string; status: string; reason?: string }[] };
    };
    const pods = await eventually("two Pods the scheduler found no node for", 30_000, async () => {
      const list = (await getJson(["pods", "--namespace=default", "--selector=app=web"])) as
        | { items: Pod[] }
        | undefined;
      const unschedulable = list?.items.filter((pod) =>
        pod.status.conditions?.some((c) => c.type === "PodScheduled" && c.reason === "Unschedulable"),
      );
      return unschedulable?.length === 2 ? list?.items : undefined;
    });
    expect(pods.map((pod) => pod.status.phase)).toEqual(["Pending", "Pending"]);
  });

  it("gives each controller its own ServiceAccount credentials", async () => {
    const serviceAccounts = (await getJson(["serviceaccounts", "--namespace=kube-system"])) as {
      items: { metadata: { name: string } }[];
    };
    const names = serviceAccounts.items.map((sa) => sa.metadata.name);
    expect(names).toEqual(
      expect.arrayContaining(["replicaset-controller", "deployment-controller", "namespace-controller"]),
    );
  });

  it("lets a node's credentials register that node and no other", async () => {
    const nodeKubeconfig = join(cluster.stateDir, "node-tm-node-1.kubeconfig");
    const node = (name: string) => ({ apiVersion: "v1", kind: "Node", metadata: { name } });
    const own = await apply(node("tm-node-1"), nodeKubeconfig);
    expect(own.code, own.stderr).toBe(0);
    const other = await apply(node("tm-node-2"), nodeKubeconfig);
    expect(other.code).not.toBe(0);
    expect(other.stderr).toMatch(/forbidden/i);
    const secrets = await kubectl(cluster, ["get", "secrets", "--namespace=default"], nodeKubeconfig);
    expect(secrets.stderr).toContain('User "system:node:tm-node-1" cannot list resource "secrets"');
    expect((await kubectl(cluster, ["delete", "node", "tm-node-1"])).code).toBe(0);
  });

  it("installs the Prometheus Operator and Gateway API CRDs, ready for objects", async () => {
    for (const crd of [
      "servicemonitors.monitoring.coreos.com",
      "podmonitors.monitoring.coreos.com",
      "prometheusrules.monitoring.coreos.com",
      "gateways.gateway.networking.k8s.io",
      "httproutes.gateway.networking.k8s.io",
    ]) {
      const result = await kubectl(cluster, ["get", "crd", crd]);
      expect(result.code, `${crd}: ${result.stderr}`).toBe(0);
    }
    const rule = await apply({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "PrometheusRule",
      metadata: { name: "latency", namespace: "default" },
      spec: { groups: [{ name: "latency", rules: [{ alert: "Slow", expr: "up == 0", for: "1m" }] }] },
    });
    expect(rule.code, rule.stderr).toBe(0);
    const invalid = await apply({
      apiVersion: "monitoring.coreos.com/v1",
      kind: "ServiceMonitor",
      metadata: { name: "bad", namespace: "default" },
      spec: { endpoints: "not-a-list" },
    });
    expect(invalid.stderr).toContain("spec.endpoints");
  });
});

describe("make cluster-down", () => {
  it("stops every process, removes the state directory, and can run again", async () => {
    const down = await clusterScript(cluster, "down");
    expect(down.code, down.stderr).toBe(0);
    for (const [component, pid] of pids) expect(isAlive(pid), component).toBe(false);
    expect(existsSync(cluster.stateDir)).toBe(false);
    const listeners = await runCommand("ss", ["-Htln", `sport = :${cluster.apiserverPort}`], {
      timeoutMs: 5_000,
    });
    expect(listeners.stdout.trim()).toBe("");
    const again = await clusterScript(cluster, "down");
    expect(again.code, again.stderr).toBe(0);
  });
});

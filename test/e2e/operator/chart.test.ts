import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { V1Deployment, V1Pod } from "@kubernetes/client-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseAllDocuments, stringify } from "yaml";
import { dashboardJson } from "../../../operator/src/dashboard/dashboard.ts";
import { e2eContext } from "../support/context.ts";
import { kubectl } from "../support/kubectl.ts";
import { useNamespace } from "../support/namespace.ts";
import { waitFor } from "../support/wait.ts";
import { exampleIn, installCrds, repoRoot, startOperator, stopOperator } from "./support.ts";

const chart = resolve(repoRoot, "helm/tradingmodel-operator");

/** E2E_HELM, else the local cluster's helm, else the one cluster-build cached, else helm on PATH. */
function helmBinary(): string {
  const cache = join(process.env.TM_CACHE ?? join(homedir(), ".cache/tm-operator"), "bin");
  const cached = existsSync(cache)
    ? readdirSync(cache)
        .filter((d) => d.startsWith("helm-"))
        .map((d) => join(cache, d, "helm"))
    : [];
  const candidates = [
    join(e2eContext().localClusterDir || join(repoRoot, ".cluster"), "bin", "helm"),
    ...cached,
  ];
  return process.env.E2E_HELM ?? candidates.find((c) => existsSync(c)) ?? "helm";
}

/** Runs a command; resolves with its exit code and output instead of throwing on a non-zero exit. */
function exec(
  bin: string,
  args: string[],
  timeoutMs = 60_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((done) => {
    execFile(
      bin,
      args,
      { env: { ...process.env, KUBECONFIG: e2eContext().kubeconfig }, timeout: timeoutMs },
      (err, stdout, stderr) =>
        done({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

async function template(args: string[]): Promise<Record<string, unknown>[]> {
  const { code, stdout, stderr } = await exec(helmBinary(), [
    "template",
    "t",
    chart,
    "--namespace",
    "tmo",
    ...args,
  ]);
  if (code !== 0) throw new Error(stderr);
  return parseAllDocuments(stdout)
    .map((d) => d.toJS() as Record<string, unknown>)
    .filter(Boolean);
}

const kinds = (docs: Record<string, unknown>[]) =>
  docs.map((d) => `${d.kind}/${(d.metadata as { name: string }).name}`);

describe("the Helm chart", () => {
  it("lints", async () => {
    const { code, stdout, stderr } = await exec(helmBinary(), ["lint", chart, "--strict"]);
    expect(`${stdout}${stderr}`).toContain("1 chart(s) linted, 0 chart(s) failed");
    expect(code).toBe(0);
  });

  it("renders two leader-electing replicas with the restricted security context, probes and resources", async () => {
    const docs = await template([]);
    expect(kinds(docs)).toEqual([
      "PodDisruptionBudget/t-tradingmodel-operator",
      "ServiceAccount/t-tradingmodel-operator",
      "ConfigMap/t-tradingmodel-operator-dashboard",
      "ClusterRole/t-tradingmodel-operator",
      "ClusterRoleBinding/t-tradingmodel-operator",
      "Role/t-tradingmodel-operator-leader-election",
      "RoleBinding/t-tradingmodel-operator-leader-election",
      "Deployment/t-tradingmodel-operator",
    ]);
    const deployment = docs.find((d) => d.kind === "Deployment") as unknown as V1Deployment;
    expect(deployment.spec?.replicas).toBe(2);
    const pod = deployment.spec?.template.spec;
    expect(pod?.securityContext).toMatchObject({
      runAsNonRoot: true,
      seccompProfile: { type: "RuntimeDefault" },
    });
    const container = pod?.containers[0];
    expect(container?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      readOnlyRootFilesystem: true,
      runAsNonRoot: true,
      capabilities: { drop: ["ALL"] },
      seccompProfile: { type: "RuntimeDefault" },
    });
    expect(container?.image).toBe("tradingmodel/operator:0.1.0");
    expect(container?.args).toContain("--leader-elect=true");
    expect(container?.args).toContain("--predictor-image=tradingmodel/predictor:0.1.0");
    expect(container?.livenessProbe?.httpGet).toEqual({ path: "/healthz", port: "metrics" });
    expect(container?.readinessProbe?.httpGet).toEqual({ path: "/readyz", port: "metrics" });
    expect(container?.resources?.limits).toEqual({ cpu: "500m", memory: "256Mi" });
    const clusterRole = docs.find((d) => d.kind === "ClusterRole") as { rules: { resources: string[] }[] };
    const rules = clusterRole.rules.flatMap((r) => r.resources);
    expect(rules).not.toContain("secrets");
    expect(rules.some((r) => r.includes("*"))).toBe(false);
  });

  it("narrows RBAC to a Role in the watched namespace", async () => {
    const docs = await template(["--set", "watchNamespace=trading"]);
    expect(kinds(docs)).toContain("Role/t-tradingmodel-operator");
    expect(kinds(docs)).not.toContain("ClusterRole/t-tradingmodel-operator");
    const deployment = docs.find((d) => d.kind === "Deployment") as {
      spec: { template: { spec: { containers: { args: string[] }[] } } };
    };
    expect(deployment.spec.template.spec.containers[0]?.args).toContain("--namespace=trading");
  });

  it("refuses values the schema or the replicas rule forbid, naming them", async () => {
    await expect(template(["--set", "workers=0"])).rejects.toThrow(/workers/);
    await expect(template(["--set", "secrets=true"])).rejects.toThrow(/secrets/);
    await expect(template(["--set", "leaderElection.enabled=false"])).rejects.toThrow(
      /replicaCount > 1 needs leaderElection.enabled/,
    );
    const single = kinds(
      await template(["--set", "leaderElection.enabled=false", "--set", "replicaCount=1"]),
    );
    expect(single).not.toContain("Role/t-tradingmodel-operator-leader-election");
    expect(single).not.toContain("PodDisruptionBudget/t-tradingmodel-operator");
  });

  it("ships the generated Grafana dashboard as a ConfigMap for Grafana's sidecar, unless turned off", async () => {
    const docs = await template([]);
    const configMap = docs.find((d) => d.kind === "ConfigMap") as {
      metadata: { labels: Record<string, string> };
      data: Record<string, string>;
    };
    expect(configMap.metadata.labels.grafana_dashboard).toBe("1");
    expect(configMap.data["tradingmodel.json"]).toBe(dashboardJson().trimEnd());
    expect(kinds(await template(["--set", "grafanaDashboard.enabled=false"]))).not.toContain(
      "ConfigMap/t-tradingmodel-operator-dashboard",
    );
  });

  it("has the operator scraped with its own labels kept: annotations, or a PodMonitor on request", async () => {
    const docs = await template([
      "--set",
      "metrics.podMonitor.enabled=true",
      "--set",
      "metrics.podMonitor.labels.release=kps",
    ]);
    const deployment = docs.find((d) => d.kind === "Deployment") as unknown as V1Deployment;
    expect(deployment.spec?.template.metadata?.annotations).toMatchObject({
      "prometheus.io/scrape": "true",
      "prometheus.io/port": "8081",
    });
    const monitor = docs.find((d) => d.kind === "PodMonitor") as {
      metadata: { labels: Record<string, string> };
      spec: { selector: { matchLabels: Record<string, string> }; podMetricsEndpoints: object[] };
    };
    expect(monitor.metadata.labels.release).toBe("kps");
    expect(monitor.spec.selector.matchLabels).toEqual(deployment.spec?.selector.matchLabels);
    expect(monitor.spec.podMetricsEndpoints).toEqual([
      { port: "metrics", path: "/metrics", interval: "30s", honorLabels: true },
    ]);
    expect(kinds(await template([])).some((k) => k.startsWith("PodMonitor/"))).toBe(false);
  });
});

describe("the chart's RBAC on the real apiserver", () => {
  const ns = useNamespace("e2e-rbac");
  const release = `rbac-${randomBytes(3).toString("hex")}`;
  let sa = "";

  beforeAll(async () => {
    await installCrds();
    const { code, stdout, stderr } = await exec(helmBinary(), [
      "template",
      release,
      chart,
      "--namespace",
      ns.name,
      "--show-only",
      "templates/serviceaccount.yaml",
      "--show-only",
      "templates/rbac.yaml",
    ]);
    if (code !== 0) throw new Error(stderr);
    await kubectl(["apply", "-f", "-"], { input: stdout });
    sa = `system:serviceaccount:${ns.name}:${release}-tradingmodel-operator`;
  });

  afterAll(async () => {
    await kubectl([
      "delete",
      "clusterrole,clusterrolebinding",
      `${release}-tradingmodel-operator`,
      "--ignore-not-found",
    ]);
  });

  const can = async (verb: string, resource: string, extra: string[] = []) =>
    (
      await exec(e2eContext().kubectl, [
        "auth",
        "can-i",
        verb,
        resource,
        "-n",
        ns.name,
        `--as=${sa}`,
        ...extra,
      ])
    ).stdout.trim();
  type Check = [verb: string, resource: string, extra?: string[]];
  /** Each check with the ServiceAccount's answer and with the answer expected of it, to compare whole lists. */
  const answers = async (checks: Check[], expected: "yes" | "no") => ({
    got: await Promise.all(
      checks.map(
        async ([verb, resource, extra]) => `${verb} ${resource}: ${await can(verb, resource, extra)}`,
      ),
    ),
    want: checks.map(([verb, resource]) => `${verb} ${resource}: ${expected}`),
  });

  it("allows the operator's ServiceAccount what the code uses", async () => {
    const allowed: Check[] = [
      ["watch", "tradingmodels.trading.mlops.dev"],
      ["patch", "tradingmodels.trading.mlops.dev", ["--subresource=status"]],
      ["create", "modelversions.trading.mlops.dev"],
      ["delete", "modelversions.trading.mlops.dev"],
      ["patch", "modelversions.trading.mlops.dev", ["--subresource=status"]],
      ["create", "jobs.batch"],
      ["delete", "jobs.batch"],
      ["watch", "pods"],
      ["delete", "configmaps"],
      ["patch", "deployments.apps"],
      ["patch", "services"],
      ["delete", "horizontalpodautoscalers.autoscaling"],
      ["patch", "serviceaccounts"],
      ["patch", "roles.rbac.authorization.k8s.io"],
      ["patch", "rolebindings.rbac.authorization.k8s.io"],
      ["create", "events.events.k8s.io"],
      ["patch", "events.events.k8s.io"],
      ["patch", "prometheusrules.monitoring.coreos.com"],
      ["watch", "prometheusrules.monitoring.coreos.com"],
      ["watch", "events"],
      ["create", "podmonitors.monitoring.coreos.com"],
      ["create", "leases.coordination.k8s.io"],
      ["update", "leases.coordination.k8s.io/tradingmodel-operator"],
    ];
    const { got, want } = await answers(allowed, "yes");
    expect(got).toEqual(want);
  });

  it("forbids Secrets, spec writes to TradingModels, pod exec and other Leases", async () => {
    const forbidden: Check[] = [
      ["get", "secrets"],
      ["list", "secrets"],
      ["watch", "secrets"],
      ["list", "secrets", ["--all-namespaces"]],
      ["update", "tradingmodels.trading.mlops.dev"],
      ["delete", "tradingmodels.trading.mlops.dev"],
      ["create", "pods", ["--subresource=exec"]],
      ["update", "jobs.batch"],
      ["update", "leases.coordination.k8s.io/someone-elses"],
      ["escalate", "roles.rbac.authorization.k8s.io"],
      ["bind", "roles.rbac.authorization.k8s.io"],
    ];
    const { got, want } = await answers(forbidden, "no");
    expect(got).toEqual(want);
  });

  it("is enough for the operator itself: run under the ServiceAccount's token, it trains the example and writes status", async () => {
    const token = (
      await kubectl(["-n", ns.name, "create", "token", `${release}-tradingmodel-operator`, "--duration=10m"])
    ).trim();
    const admin = JSON.parse(await kubectl(["config", "view", "--raw", "--minify", "-o", "json"])) as {
      clusters: { cluster: Record<string, string> }[];
    };
    const kubeconfig = join(mkdtempSync(join(tmpdir(), "tmo-sa-")), "kubeconfig");
    writeFileSync(
      kubeconfig,
      stringify({
        apiVersion: "v1",
        kind: "Config",
        clusters: [{ name: "c", cluster: admin.clusters[0]?.cluster }],
        users: [{ name: "sa", user: { token } }],
        contexts: [{ name: "sa", context: { cluster: "c", user: "sa", namespace: ns.name } }],
        "current-context": "sa",
      }),
    );
    // Its own namespace only, so it never touches models of other tests on a shared cluster.
    const op = startOperator({
      identity: "rbac-op",
      leaseNamespace: ns.name,
      watchNamespace: ns.name,
      kubeconfig,
    });
    try {
      const model = exampleIn(readFileSync(resolve(repoRoot, "examples/spy-momentum.yaml"), "utf8"), ns.name);
      await kubectl(["apply", "-f", "-"], { input: model });
      const phase = await waitFor(
        "status written by the operator under its ServiceAccount",
        async () =>
          (await kubectl(["-n", ns.name, "get", "tm", "spy-momentum", "-o", "jsonpath={.status.phase}"])) ||
          undefined,
        { timeoutMs: 30_000 },
      );
      expect(phase).toBe("Training");
      await kubectl(["-n", ns.name, "get", "job/spy-momentum-train-v1", "role/spy-momentum-trainer"]);
      const failures = op.logs.filter((l) => l.level === 50 || String(l.err ?? "").includes("403"));
      expect(failures).toEqual([]);
    } finally {
      await stopOperator(op);
    }
  });
});

describe("the chart installed, with the node agent running its pods", () => {
  const ns = useNamespace("e2e-chart");

  it("runs two ready replicas under the chart's ServiceAccount; deleting the leader hands the Lease over within seconds", async () => {
    const { code, stderr } = await exec(
      helmBinary(),
      [
        ...["upgrade", "--install", "tmo", chart, "--namespace", ns.name],
        ...["--set", `watchNamespace=${ns.name}`, "--wait", "--timeout", "4m"],
      ],
      5 * 60_000,
    );
    // When helm gives up, what the pods were doing says why (a replica never ready, restarts, events).
    const state =
      code === 0
        ? ""
        : await kubectl(["-n", ns.name, "describe", "pods", "-l", "app.kubernetes.io/instance=tmo"]).catch(
            (err: Error) => err.message,
          );
    expect(code, `${stderr}\n${state}`).toBe(0);
    const pods = JSON.parse(
      await kubectl(["-n", ns.name, "get", "pods", "-l", "app.kubernetes.io/instance=tmo", "-o", "json"]),
    ) as { items: V1Pod[] };
    expect(pods.items.map((p) => p.spec?.serviceAccountName)).toEqual([
      "tmo-tradingmodel-operator",
      "tmo-tradingmodel-operator",
    ]);
    const names = pods.items.map((p) => p.metadata?.name ?? "");
    const holder = () =>
      kubectl([
        "-n",
        ns.name,
        "get",
        "lease",
        "tradingmodel-operator",
        "-o",
        "jsonpath={.spec.holderIdentity}",
      ]);
    const leader = await waitFor("a pod to lead", async () => {
      const h = await holder();
      return names.includes(h) ? h : undefined;
    });
    const deletedAt = Date.now();
    await kubectl(["-n", ns.name, "delete", "pod", leader, "--wait=false"]);
    // The standby or the ReplicaSet's replacement pod, whichever asks first once the Lease is free.
    const next = await waitFor(
      "another pod to lead",
      async () => {
        const h = await holder();
        return h && h !== leader ? h : undefined;
      },
      { timeoutMs: 20_000 },
    );
    // The deleted pod released the Lease on SIGTERM: no waiting out the 15 s lease duration.
    expect(Date.now() - deletedAt).toBeLessThan(10_000);
    const live = JSON.parse(
      await kubectl(["-n", ns.name, "get", "pods", "-l", "app.kubernetes.io/instance=tmo", "-o", "json"]),
    ) as { items: V1Pod[] };
    const running = live.items.filter((p) => !p.metadata?.deletionTimestamp).map((p) => p.metadata?.name);
    expect(running).toContain(next);
  });
});

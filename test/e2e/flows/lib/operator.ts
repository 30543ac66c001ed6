// The operator as a user installs it: the Helm chart's Deployment, its pods under the chart's own
// ServiceAccount, watching only the test's namespace so that flows and other suites never share an
// operator. (Flows that kill the operator run it as a host process: ../../operator/support.ts.)
import { execFile } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import type { V1Lease, V1Pod } from "@kubernetes/client-node";
import { e2eContext } from "../../support/context.ts";
import { getJson } from "../../support/kubectl.ts";

const repoRoot = resolve(import.meta.dirname, "../../../..");
const CHART = join(repoRoot, "helm/tradingmodel-operator");
const HELM_TIMEOUT_MS = 6 * 60_000;

/** The local cluster's helm, E2E_HELM, the helm beside E2E_KUBECTL, or helm on PATH. */
function helmBinary(): string {
  const { localClusterDir, kubectl } = e2eContext();
  if (process.env.E2E_HELM) return process.env.E2E_HELM;
  if (localClusterDir) return join(localClusterDir, "bin", "helm");
  return kubectl.includes("/") ? join(dirname(kubectl), "helm") : "helm";
}

function helm(args: string[]): Promise<string> {
  return new Promise((resolvePromise, reject) => {
    execFile(
      helmBinary(),
      [`--kubeconfig=${e2eContext().kubeconfig}`, ...args],
      { timeout: HELM_TIMEOUT_MS, maxBuffer: 16 * 1024 * 1024 },
      (err, stdout, stderr) =>
        err ? reject(new Error(`helm ${args.join(" ")}: ${stderr || err.message}`)) : resolvePromise(stdout),
    );
  });
}

export type ChartOperator = { release: string; namespace: string; serviceAccount: string };

/**
 * Installs the chart into `namespace`, watching that namespace only (its RBAC becomes a Role
 * there), and waits until its pods are ready. Everything else is the chart's defaults: two
 * replicas with leader election, restricted security context, its own ServiceAccount.
 */
export async function installChartOperator(namespace: string, release = "tmo"): Promise<ChartOperator> {
  await helm([
    "upgrade",
    "--install",
    release,
    CHART,
    "--namespace",
    namespace,
    "--set",
    `watchNamespace=${namespace}`,
    "--wait",
    "--timeout",
    "5m",
  ]);
  return { release, namespace, serviceAccount: `${release}-tradingmodel-operator` };
}

export async function chartOperatorPods(op: ChartOperator): Promise<V1Pod[]> {
  return (
    await getJson<{ items: V1Pod[] }>([
      "pods",
      "-n",
      op.namespace,
      "-l",
      `app.kubernetes.io/instance=${op.release}`,
    ])
  ).items;
}

/** The identity holding the operator's leader Lease in its namespace. */
export async function leaseHolder(
  namespace: string,
  lease = "tradingmodel-operator",
): Promise<string | undefined> {
  return (await getJson<V1Lease>(["lease", lease, "-n", namespace])).spec?.holderIdentity ?? undefined;
}

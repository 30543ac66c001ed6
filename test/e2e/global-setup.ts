// The e2e suite's one global setup. With E2E_KUBECONFIG set, the suite runs against that cluster
// unchanged (a kind cluster, say) and leaves it alone. Otherwise it brings up the local cluster
// (make cluster-up, building what is missing) and brings it down afterwards unless
// E2E_KEEP_CLUSTER=1. Tests read the result with e2eContext() (support/context.ts).
import { spawn } from "node:child_process";
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { TestProject } from "vitest/node";
import type { E2EContext } from "./support/context.ts";

const repoRoot = resolve(import.meta.dirname, "../..");

function make(target: string): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    // The cluster's output goes to stderr so that it never mixes into a reporter's stdout.
    const child = spawn("make", ["--no-print-directory", target], { cwd: repoRoot, stdio: ["ignore", 2, 2] });
    child.on("error", reject);
    child.on("exit", (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`make ${target} exited with ${code}`)),
    );
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const external = process.env.E2E_KUBECONFIG;
  if (external) {
    if (!existsSync(external)) throw new Error(`E2E_KUBECONFIG: ${external} does not exist`);
    const context: E2EContext = {
      kubeconfig: resolve(external),
      kubectl: process.env.E2E_KUBECTL ?? "kubectl",
      localClusterDir: "",
      prometheusUrl: process.env.E2E_PROMETHEUS_URL ?? "",
    };
    project.provide("e2e", context);
    return async () => {};
  }
  const clusterDir = process.env.TM_CLUSTER_DIR ?? join(repoRoot, ".cluster");
  await make("cluster-up");
  project.provide("e2e", {
    kubeconfig: join(clusterDir, "kubeconfig"),
    kubectl: join(clusterDir, "bin", "kubectl"),
    localClusterDir: clusterDir,
    prometheusUrl: `http://127.0.0.1:${process.env.TM_PROMETHEUS_PORT ?? "9090"}`,
  });
  return async () => {
    if (process.env.E2E_KEEP_CLUSTER === "1") return;
    await make("cluster-down");
  };
}

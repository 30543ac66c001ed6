import { defineConfig } from "vitest/config";
import { BaseSequencer, type TestSpecification } from "vitest/node";

// test/e2e/local/ checks what only the local cluster has (its network isolation, cluster-down);
// it does not run against a cluster named by E2E_KUBECONFIG. The cluster-down test runs last, and
// not at all when the cluster is to be kept (E2E_KEEP_CLUSTER=1).
const CLUSTER_DOWN_TEST = "test/e2e/local/cluster-down.test.ts";
const externalCluster = Boolean(process.env.E2E_KUBECONFIG);
const localOnly = externalCluster
  ? ["test/e2e/local/**"]
  : process.env.E2E_KEEP_CLUSTER === "1"
    ? [CLUSTER_DOWN_TEST]
    : [];

class ClusterDownLast extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const sorted = await super.sort(files);
    const last = (f: TestSpecification) => f.moduleId.endsWith(CLUSTER_DOWN_TEST);
    return [...sorted.filter((f) => !last(f)), ...sorted.filter(last)];
  }
}

export default defineConfig({
  test: {
    // A project cannot have a sequencer of its own; this one only moves the cluster-down test last.
    sequence: { sequencer: ClusterDownLast },
    projects: [
      {
        test: {
          name: "unit",
          include: [
            "predictor/**/*.test.ts",
            "operator/**/*.test.ts",
            "test/unit/**/*.test.ts",
            "bench/**/*.test.ts",
            // The local cluster's services (proxy, rule sync): loopback sockets and promtool only.
            "test/cluster/services/**/*.test.ts",
            // The node agent's pure core and file helpers (its integration tests are in "cluster").
            "test/cluster/agent/*.test.ts",
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // Starts and stops a real control plane (make cluster-test); binaries from cluster-build.
          // One file at a time: vitest would otherwise run up to (cores - 1) files at once, and
          // repair.test.ts brings up a whole cluster on the fixed ports and bridge while the agent
          // test runs nodes of its own beside it, each with timeouts sized for a machine to itself.
          name: "cluster",
          include: ["test/cluster/*.test.ts", "test/cluster/agent/integration/*.test.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // The end-to-end suite (make e2e) against the local cluster, which the global setup brings
          // up and down, or against the cluster E2E_KUBECONFIG names. One file at a time: files
          // share the cluster's nodes and Prometheus.
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          exclude: localOnly,
          globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
      {
        test: {
          // make bench-rollout: the progressive-delivery timings on the local cluster (not in make test).
          name: "rollout-bench",
          include: ["bench/rollout/*.bench.ts"],
          globalSetup: ["test/e2e/global-setup.ts"],
          fileParallelism: false,
          testTimeout: 1_800_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});

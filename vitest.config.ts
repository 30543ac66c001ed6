import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
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
          ],
          testTimeout: 30_000,
        },
      },
      {
        test: {
          // Starts and stops a real control plane (make cluster-test); binaries from cluster-build.
          name: "cluster",
          include: ["test/cluster/*.test.ts"],
          testTimeout: 120_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});

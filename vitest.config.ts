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
          ],
          testTimeout: 30_000,
        },
      },
    ],
  },
});

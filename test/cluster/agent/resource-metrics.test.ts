import { describe, expect, it } from "vitest";
import { resourceMetricsText } from "./resource-metrics.ts";

describe("resource metrics", () => {
  it("writes the samples metrics-server reads, with timestamps and escaped labels", () => {
    const text = resourceMetricsText(
      { cpuSeconds: 12.5, memoryBytes: 1e9 },
      [
        {
          namespace: "shop",
          pod: 'we"b',
          container: "main",
          cpuSeconds: 0.25,
          memoryBytes: 2048,
          startedAt: new Date(1_700_000_000_000),
        },
      ],
      new Date(1_700_000_100_000),
    );
    const samples = text.split("\n").filter((l) => l && !l.startsWith("#"));
    expect(samples).toEqual([
      'container_cpu_usage_seconds_total{container="main",namespace="shop",pod="we\\"b"} 0.25 1700000100000',
      'container_memory_working_set_bytes{container="main",namespace="shop",pod="we\\"b"} 2048 1700000100000',
      'container_start_time_seconds{container="main",namespace="shop",pod="we\\"b"} 1700000000 1700000100000',
      "node_cpu_usage_seconds_total 12.5 1700000100000",
      "node_memory_working_set_bytes 1000000000 1700000100000",
      "scrape_error 0",
    ]);
    expect(text).toContain("# TYPE container_cpu_usage_seconds_total counter\n");
  });
});

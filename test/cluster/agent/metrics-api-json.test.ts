import { describe, expect, it } from "vitest";
import { cpuRate, parseLabelSelector, podMetrics } from "./metrics-api-json.ts";

describe("metrics.k8s.io objects", () => {
  it("turns two CPU-time samples into cores used", () => {
    expect(cpuRate({ at: 0, usec: 1_000_000 }, { at: 10_000, usec: 6_000_000 })).toBe(0.5);
    expect(cpuRate(undefined, { at: 10_000, usec: 6_000_000 })).toBeUndefined();
    expect(cpuRate({ at: 0, usec: 9 }, { at: 10, usec: 1 })).toBeUndefined();
  });

  it("writes PodMetrics with usage in nanocores and KiB", () => {
    const m = podMetrics(
      {
        namespace: "shop",
        name: "web-1",
        labels: { app: "web" },
        containers: [{ name: "main", cpuCores: 0.25, memoryBytes: 2 ** 20 }],
      },
      new Date("2026-11-24T10:00:00Z"),
      15,
    );
    expect(m).toMatchObject({
      kind: "PodMetrics",
      metadata: { name: "web-1", namespace: "shop", labels: { app: "web" } },
      window: "15s",
      containers: [{ name: "main", usage: { cpu: "250000000n", memory: "1024Ki" } }],
    });
  });

  it("matches label selectors as the HPA sends them", () => {
    const sel = parseLabelSelector("app=web,tier in (front, edge),!canary,track!=shadow");
    expect(sel({ app: "web", tier: "edge" })).toBe(true);
    expect(sel({ app: "web", tier: "back" })).toBe(false);
    expect(sel({ app: "web", tier: "front", canary: "1" })).toBe(false);
    expect(sel({ app: "web", tier: "front", track: "shadow" })).toBe(false);
    expect(parseLabelSelector("")({ any: "x" })).toBe(true);
    expect(() => parseLabelSelector("app=>web")).toThrow('labelSelector: cannot parse "app=>web"');
  });
});

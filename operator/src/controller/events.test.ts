import { describe, expect, it } from "vitest";
import { type EventInput, EventRecorder, truncateNote } from "./events.ts";
import { FakeCluster } from "./fake-cluster.ts";

const input: EventInput = {
  namespace: "trading",
  regarding: {
    apiVersion: "trading.mlops.dev/v1alpha1",
    kind: "TradingModel",
    name: "spy-momentum",
    namespace: "trading",
  },
  type: "Warning",
  reason: "CandidateRejected",
  note: "v2 failed: directional accuracy 0.5250 < 0.5260",
  action: "Gate",
};

function recorder(cluster: FakeCluster, clock: { now: number }) {
  return new EventRecorder(
    cluster,
    { controller: "c", instance: "i", aggregationWindowMs: 60_000, maxRemembered: 2 },
    () => new Date(clock.now),
  );
}

describe("EventRecorder", () => {
  it("counts a repeat within the window on the first Event's series instead of creating another", async () => {
    const cluster = new FakeCluster();
    const clock = { now: Date.parse("2026-11-24T10:00:00Z") };
    const events = recorder(cluster, clock);
    expect(await events.record(input)).toBe(true);
    clock.now += 1_000;
    expect(await events.record(input)).toBe(false);
    expect(await events.record({ ...input, note: "v3 failed" })).toBe(true);
    clock.now += 60_000;
    expect(await events.record(input)).toBe(true);
    const name = cluster.events[0]?.metadata?.name;
    expect(cluster.calls).toEqual([
      "event CandidateRejected",
      `series ${name} 2`,
      "event CandidateRejected",
      "event CandidateRejected",
    ]);
    expect(cluster.events[0]).toMatchObject({ eventTime: "2026-11-24T10:00:00.000000Z", action: "Gate" });
    expect(name).toMatch(/^spy-momentum\.[0-9a-f]{16}$/);
  });

  it("creates a new Event when the one to count on has expired", async () => {
    const cluster = new FakeCluster();
    const clock = { now: 0 };
    const events = recorder(cluster, clock);
    await events.record(input);
    cluster.fail("series", 404, "not found");
    expect(await events.record(input)).toBe(true);
    expect(cluster.events).toHaveLength(2);
  });

  it("keeps notes within the 1 kB limit", () => {
    const long = "é".repeat(2000);
    const cut = truncateNote(long);
    expect(Buffer.byteLength(cut, "utf8")).toBeLessThanOrEqual(1024);
    expect(cut.endsWith("...")).toBe(true);
    expect(truncateNote("short")).toBe("short");
  });
});

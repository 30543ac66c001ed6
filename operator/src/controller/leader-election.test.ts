import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import {
  DEFAULT_TIMING,
  LeaderElector,
  LeaseConflictError,
  type LeaseRecord,
  type LeaseStore,
  microTime,
  nextLeaseStep,
  type ObservedLease,
} from "./leader-election.ts";

/** A Lease with the apiserver's resourceVersion precondition semantics, shared by candidates. */
class MemoryLease {
  lease?: ObservedLease;
  private rv = 0;
  /** Candidates whose calls fail, as if their connection to the apiserver were cut. */
  readonly cut = new Set<string>();

  storeFor(identity: string): LeaseStore {
    const check = () => {
      if (this.cut.has(identity)) throw new Error("connect ECONNREFUSED");
    };
    return {
      get: async () => {
        check();
        return this.lease && structuredClone(this.lease);
      },
      create: async (spec: LeaseRecord) => {
        check();
        if (this.lease) throw new Error("AlreadyExists");
        this.lease = { spec, resourceVersion: String(++this.rv) };
        return structuredClone(this.lease);
      },
      update: async (spec: LeaseRecord, resourceVersion: string) => {
        check();
        if (this.lease?.resourceVersion !== resourceVersion) throw new LeaseConflictError("conflict");
        this.lease = { spec, resourceVersion: String(++this.rv) };
        return structuredClone(this.lease);
      },
    };
  }
}

function candidate(memory: MemoryLease, identity: string) {
  const events: string[] = [];
  const elector = new LeaderElector(
    memory.storeFor(identity),
    identity,
    DEFAULT_TIMING,
    {
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => {
        events.push("stopped");
      },
    },
    () => 0.5,
  );
  return { elector, events };
}

describe("nextLeaseStep", () => {
  const now = new Date("2026-11-24T10:00:00.123Z");
  const held = (holder: string, transitions = 0): ObservedLease => ({
    spec: {
      holderIdentity: holder,
      leaseDurationSeconds: 15,
      acquireTime: "2026-11-24T09:00:00.000000Z",
      renewTime: "2026-11-24T09:59:59.000000Z",
      leaseTransitions: transitions,
    },
    resourceVersion: "7",
  });

  it("creates a missing Lease with itself as holder and microsecond times", () => {
    expect(nextLeaseStep(undefined, "a", now, now.getTime(), 15_000)).toEqual({
      kind: "create",
      spec: {
        holderIdentity: "a",
        leaseDurationSeconds: 15,
        acquireTime: "2026-11-24T10:00:00.123000Z",
        renewTime: "2026-11-24T10:00:00.123000Z",
        leaseTransitions: 0,
      },
    });
  });

  it("renews its own Lease under the observed resourceVersion, keeping acquireTime", () => {
    const step = nextLeaseStep(held("a", 3), "a", now, now.getTime(), 15_000);
    expect(step).toMatchObject({
      kind: "update",
      resourceVersion: "7",
      spec: { holderIdentity: "a", acquireTime: "2026-11-24T09:00:00.000000Z", leaseTransitions: 3 },
    });
    expect(step.kind === "update" && step.spec.renewTime).toBe(microTime(now));
  });

  it("leaves another holder's Lease alone until it has gone unrenewed for the lease duration by the local clock", () => {
    const seen = now.getTime() - 14_999;
    expect(nextLeaseStep(held("b"), "a", now, seen, 15_000)).toEqual({ kind: "held", holder: "b" });
    expect(nextLeaseStep(held("b", 2), "a", now, seen - 1, 15_000)).toMatchObject({
      kind: "update",
      spec: { holderIdentity: "a", leaseTransitions: 3, acquireTime: microTime(now) },
    });
  });

  it("takes a released Lease at once", () => {
    expect(nextLeaseStep(held(""), "a", now, now.getTime(), 15_000)).toMatchObject({
      kind: "update",
      spec: { holderIdentity: "a" },
    });
  });
});

describe("LeaderElector", () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date("2026-11-24T10:00:00Z") }));
  afterEach(() => vi.useRealTimers());

  it("lets only one of two candidates lead, and renews while it leads", async () => {
    const memory = new MemoryLease();
    const a = candidate(memory, "a");
    const b = candidate(memory, "b");
    a.elector.start();
    b.elector.start();
    await vi.advanceTimersByTimeAsync(60_000);
    expect([a.elector.isLeader, b.elector.isLeader]).toEqual([true, false]);
    expect(a.events).toEqual(["started"]);
    expect(b.events).toEqual([]);
    expect(Date.now() - Date.parse(memory.lease?.spec.renewTime ?? "")).toBeLessThanOrEqual(2_000);
    await a.elector.stop();
    await b.elector.stop();
  });

  it("hands over within a retry period when the leader stops and releases the Lease", async () => {
    const memory = new MemoryLease();
    const a = candidate(memory, "a");
    const b = candidate(memory, "b");
    a.elector.start();
    await vi.advanceTimersByTimeAsync(100);
    b.elector.start();
    await vi.advanceTimersByTimeAsync(10_000);
    await a.elector.stop();
    expect(a.events).toEqual(["started", "stopped"]);
    expect(memory.lease?.spec.holderIdentity).toBe("");
    await vi.advanceTimersByTimeAsync(2_500);
    expect(b.elector.isLeader).toBe(true);
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 0 });
    await b.elector.stop();
  });

  it("stops leading after the renew deadline when cut off, before the other candidate may take over", async () => {
    const memory = new MemoryLease();
    const a = candidate(memory, "a");
    const b = candidate(memory, "b");
    a.elector.start();
    await vi.advanceTimersByTimeAsync(100);
    b.elector.start();
    await vi.advanceTimersByTimeAsync(5_000);
    memory.cut.add("a");
    const cutAt = Date.now();
    let aStoppedAt = 0;
    let bStartedAt = 0;
    while (!(aStoppedAt && bStartedAt) && Date.now() - cutAt < 60_000) {
      await vi.advanceTimersByTimeAsync(100);
      if (!aStoppedAt && !a.elector.isLeader) aStoppedAt = Date.now();
      if (!bStartedAt && b.elector.isLeader) bStartedAt = Date.now();
    }
    expect(aStoppedAt - cutAt).toBeLessThanOrEqual(DEFAULT_TIMING.renewDeadlineMs + 2_500);
    expect(bStartedAt).toBeGreaterThan(aStoppedAt);
    expect(bStartedAt - cutAt).toBeLessThanOrEqual(DEFAULT_TIMING.leaseDurationMs + 5_000);
    expect(memory.lease?.spec).toMatchObject({ holderIdentity: "b", leaseTransitions: 1 });
    await a.elector.stop();
    await b.elector.stop();
  });
  it("releases a Lease that an attempt in flight acquired while it was being stopped", async () => {
    const memory = new MemoryLease();
    const store = memory.storeFor("a");
    let letCreateFinish: () => void = () => {};
    const slow: LeaseStore = {
      ...store,
      create: async (spec) => {
        await new Promise<void>((r) => {
          letCreateFinish = r;
        });
        return store.create(spec);
      },
    };
    const events: string[] = [];
    const elector = new LeaderElector(slow, "a", DEFAULT_TIMING, {
      onStartedLeading: () => events.push("started"),
      onStoppedLeading: () => {
        events.push("stopped");
      },
    });
    elector.start();
    await vi.advanceTimersByTimeAsync(10);
    const stopping = elector.stop();
    letCreateFinish();
    await stopping;
    expect(events).toEqual([]);
    expect(memory.lease?.spec.holderIdentity).toBe("");
  });
});

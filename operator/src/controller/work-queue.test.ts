import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { WorkQueue } from "./work-queue.ts";

const policy = { baseMs: 100, maxMs: 1000 };

describe("WorkQueue", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("hands out a key added many times once", async () => {
    const q = new WorkQueue(policy);
    q.add("ns/a");
    q.add("ns/a");
    q.add("ns/b");
    q.add("ns/a");
    expect(q.depth).toBe(2);
    expect(await q.get()).toBe("ns/a");
    expect(await q.get()).toBe("ns/b");
    expect(q.depth).toBe(0);
  });

  it("never gives a key in process to a second worker, and requeues it after done when it was added meanwhile", async () => {
    const q = new WorkQueue(policy);
    q.add("ns/a");
    const first = await q.get();
    q.add("ns/a");
    q.add("ns/a");
    expect(q.depth).toBe(0);
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await Promise.resolve();
    expect(second).toBeUndefined();
    q.done(first ?? "");
    await Promise.resolve();
    expect(second).toBe("ns/a");
  });

  it("does not requeue a key after done when nothing was added meanwhile", async () => {
    const q = new WorkQueue(policy);
    q.add("ns/a");
    q.done((await q.get()) ?? "");
    expect(q.depth).toBe(0);
    expect(q.inFlight).toBe(0);
  });

  it("wakes a waiting worker when a key arrives", async () => {
    const q = new WorkQueue(policy);
    const next = q.get();
    q.add("ns/a");
    expect(await next).toBe("ns/a");
  });

  it("adds a key after its delay, keeping the earlier of two pending times", async () => {
    const q = new WorkQueue(policy);
    q.addAfter("ns/a", 5000);
    q.addAfter("ns/a", 2000);
    q.addAfter("ns/a", 9000);
    vi.advanceTimersByTime(1999);
    expect(q.depth).toBe(0);
    vi.advanceTimersByTime(1);
    expect(q.depth).toBe(1);
    await q.get();
    vi.advanceTimersByTime(10_000);
    expect(q.depth).toBe(0);
  });

  it("backs off exponentially per key within the cap, with jitter in the upper half, and forget resets it", () => {
    const q = new WorkQueue(policy, () => 0);
    expect([1, 2, 3, 4, 5, 6].map(() => q.addRateLimited("ns/a"))).toEqual([50, 100, 200, 400, 500, 500]);
    expect(q.failureCount("ns/a")).toBe(6);
    expect(q.addRateLimited("ns/b")).toBe(50);
    q.forget("ns/a");
    expect(q.failureCount("ns/a")).toBe(0);
    const jittered = new WorkQueue(policy, () => 0.999);
    expect(jittered.addRateLimited("ns/a")).toBeCloseTo(99.95, 5);
  });

  it("stops handing out keys at shutdown and reports idle once in-flight keys are done", async () => {
    const q = new WorkQueue(policy);
    q.add("ns/a");
    q.add("ns/b");
    const inFlight = await q.get();
    const waiting = q.get();
    q.shutDown();
    expect(await q.get()).toBeUndefined();
    expect(await waiting).toBe("ns/b");
    let idle = false;
    void q.idle().then(() => {
      idle = true;
    });
    q.add("ns/c");
    expect(q.depth).toBe(0);
    q.done(inFlight ?? "");
    q.done("ns/b");
    await Promise.resolve();
    expect(idle).toBe(true);
  });
});

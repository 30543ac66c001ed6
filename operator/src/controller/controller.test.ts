import { pino } from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { Controller } from "./controller.ts";
import { OperatorMetrics } from "./metrics.ts";
import type { ReconcileResult } from "./reconciler.ts";

const log = pino({ level: "silent" });
const ok: ReconcileResult = { statusWritten: false, eventsEmitted: 0 };

/** A reconcile the test finishes by hand, recording which keys run concurrently. */
function manualReconcile() {
  const running = new Map<string, (result: ReconcileResult | Error) => void>();
  const started: string[] = [];
  let maxConcurrent = 0;
  const reconcile = (key: string) =>
    new Promise<ReconcileResult>((resolve, reject) => {
      expect(running.has(key)).toBe(false);
      started.push(key);
      running.set(key, (r) => {
        running.delete(key);
        if (r instanceof Error) reject(r);
        else resolve(r);
      });
      maxConcurrent = Math.max(maxConcurrent, running.size);
    });
  return { reconcile, running, started, max: () => maxConcurrent };
}

const settle = () => vi.advanceTimersByTimeAsync(0);

describe("Controller", () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it("runs at most `workers` reconciles at once and one per key, then the key again if it changed meanwhile", async () => {
    const r = manualReconcile();
    const metrics = new OperatorMetrics();
    const c = new Controller(
      { workers: 2, resyncPeriodMs: 3_600_000, retry: { baseMs: 1000, maxMs: 60_000 } },
      { reconcile: r.reconcile, allKeys: () => ["ns/a", "ns/b", "ns/c"], metrics, log },
    );
    c.start();
    await settle();
    expect(r.started).toEqual(["ns/a", "ns/b"]);
    const gauges = await metrics.registry.metrics();
    expect(gauges).toContain("tradingmodel_operator_workqueue_depth 1");
    expect(gauges).toContain("tradingmodel_operator_reconciles_in_flight 2");
    c.enqueue("ns/a");
    r.running.get("ns/a")?.(ok);
    await settle();
    expect(r.started).toEqual(["ns/a", "ns/b", "ns/c"]);
    r.running.get("ns/b")?.(ok);
    await settle();
    expect(r.started).toEqual(["ns/a", "ns/b", "ns/c", "ns/a"]);
    expect(r.max()).toBe(2);
    for (const done of [...r.running.values()]) done(ok);
    await c.stop();
  });

  it("retries a failed key with growing backoff and honours requeue-after", async () => {
    const r = manualReconcile();
    const metrics = new OperatorMetrics();
    const c = new Controller(
      { workers: 1, resyncPeriodMs: 3_600_000, retry: { baseMs: 1000, maxMs: 60_000 } },
      { reconcile: r.reconcile, allKeys: () => ["ns/a"], metrics, log },
    );
    c.start();
    await settle();
    r.running.get("ns/a")?.(new Error("apiserver down"));
    await settle();
    await vi.advanceTimersByTimeAsync(499);
    expect(r.started).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(501);
    expect(r.started).toHaveLength(2);
    r.running.get("ns/a")?.(new Error("apiserver down"));
    await vi.advanceTimersByTimeAsync(999);
    expect(r.started).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(1001);
    expect(r.started).toHaveLength(3);
    r.running.get("ns/a")?.({ ...ok, requeueAfterMs: 15_000 });
    await vi.advanceTimersByTimeAsync(14_999);
    expect(r.started).toHaveLength(3);
    await vi.advanceTimersByTimeAsync(1);
    expect(r.started).toHaveLength(4);
    const text = await metrics.registry.metrics();
    expect(text).toContain('tradingmodel_operator_reconcile_total{result="error"} 2');
    expect(text).toContain('tradingmodel_operator_reconcile_total{result="requeue"} 1');
    r.running.get("ns/a")?.(ok);
    await c.stop();
  });

  it("stops taking work on stop and waits for the reconcile in flight", async () => {
    const r = manualReconcile();
    const c = new Controller(
      { workers: 1, resyncPeriodMs: 3_600_000, retry: { baseMs: 1000, maxMs: 60_000 } },
      { reconcile: r.reconcile, allKeys: () => ["ns/a", "ns/b"], metrics: new OperatorMetrics(), log },
    );
    c.start();
    await settle();
    let stopped = false;
    const stopping = c.stop().then(() => {
      stopped = true;
    });
    c.enqueue("ns/c");
    await settle();
    expect(stopped).toBe(false);
    r.running.get("ns/a")?.(ok);
    await stopping;
    expect(r.started).toEqual(["ns/a"]);
    expect(c.running).toBe(false);
  });
});

import { describe, expect, it } from "vitest";
import { backoffDelay, retrying } from "./backoff.ts";

describe("backoffDelay", () => {
  it("doubles from base up to the cap, with the upper half of it jittered", () => {
    const policy = { baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4].map((r) => backoffDelay(policy, r, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect([0, 1, 2, 3, 4].map((r) => backoffDelay(policy, r, () => 0))).toEqual([50, 100, 200, 400, 500]);
  });

  it("stays at the cap however many retries have failed", () => {
    expect(backoffDelay({ baseMs: 100, maxMs: 1_000 }, 5_000, () => 1)).toBe(1_000);
  });
});

describe("retrying", () => {
  const policy = { attempts: 4, baseMs: 10, maxMs: 25 };
  const sleepless = { sleep: async () => {} };

  it("makes `attempts` attempts at a retryable failure, sleeping a growing, capped backoff", async () => {
    const sleeps: number[] = [];
    const retries: number[] = [];
    let calls = 0;
    const failing = async () => {
      calls++;
      throw new Error(`failure ${calls}`);
    };
    await expect(
      retrying(failing, {
        policy,
        retryable: () => true,
        random: () => 1,
        sleep: async (ms) => void sleeps.push(ms),
        onRetry: (_err, attempt) => retries.push(attempt),
      }),
    ).rejects.toThrow("failure 4");
    expect(calls).toBe(4);
    expect(sleeps).toEqual([10, 20, 25]);
    expect(retries).toEqual([1, 2, 3]);
  });

  it("returns the first success, and gives up at once on a failure that is not retryable", async () => {
    let calls = 0;
    const flaky = async () => (++calls < 2 ? Promise.reject(new Error("flaky")) : "ok");
    expect(await retrying(flaky, { policy, retryable: () => true, ...sleepless })).toBe("ok");
    calls = 0;
    const broken = async () => Promise.reject(new Error(`broken ${++calls}`));
    await expect(retrying(broken, { policy, retryable: () => false, ...sleepless })).rejects.toThrow(
      "broken 1",
    );
  });

  it("gives each attempt a fresh timeout signal when the policy sets one, and none otherwise", async () => {
    const signals: (AbortSignal | undefined)[] = [];
    const hang = (signal: AbortSignal | undefined) => {
      signals.push(signal);
      return new Promise<never>((_resolve, reject) => {
        signal?.addEventListener("abort", () => reject(signal.reason));
      });
    };
    const timed = { ...policy, attempts: 2, timeoutMs: 20 };
    await expect(retrying(hang, { policy: timed, retryable: () => true, ...sleepless })).rejects.toThrow(
      expect.objectContaining({ name: "TimeoutError" }),
    );
    expect(signals).toHaveLength(2);
    expect(signals[0]).not.toBe(signals[1]);
    expect(await retrying(async (signal) => signal, { policy, retryable: () => true })).toBeUndefined();
  });
});

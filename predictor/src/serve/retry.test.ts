import { describe, expect, it } from "vitest";
import { backoffDelay, withRetries } from "./retry.ts";

describe("withRetries", () => {
  it("retries a retryable failure up to `retries` times, sleeping a jittered, growing backoff", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const policy = {
      retries: 3,
      baseDelayMs: 10,
      maxDelayMs: 25,
      random: () => 0.5,
      sleep: async (ms: number) => void sleeps.push(ms),
    };
    await expect(
      withRetries(
        policy,
        () => true,
        async () => {
          calls++;
          throw new Error(`failure ${calls}`);
        },
      ),
    ).rejects.toThrow("failure 4");
    expect(calls).toBe(4);
    expect(sleeps).toEqual([5, 10, 12.5]);
  });

  it("returns the first success and gives up at once on a failure that is not retryable", async () => {
    let calls = 0;
    const policy = { retries: 3, baseDelayMs: 1, maxDelayMs: 1, sleep: async () => {} };
    expect(
      await withRetries(
        policy,
        () => true,
        async () => (++calls < 2 ? Promise.reject(new Error("x")) : "ok"),
      ),
    ).toBe("ok");
    calls = 0;
    await expect(
      withRetries(
        policy,
        () => false,
        async () => Promise.reject(new Error(`no ${++calls}`)),
      ),
    ).rejects.toThrow("no 1");
  });

  it("draws the delay uniformly below the capped exponential", () => {
    const policy = { retries: 5, baseDelayMs: 100, maxDelayMs: 1000 };
    for (let attempt = 0; attempt < 6; attempt++) {
      const cap = Math.min(1000, 100 * 2 ** attempt);
      expect(backoffDelay({ ...policy, random: () => 0 }, attempt)).toBe(0);
      expect(backoffDelay({ ...policy, random: () => 0.999 }, attempt)).toBeCloseTo(0.999 * cap, 9);
    }
  });
});

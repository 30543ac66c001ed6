import { describe, expect, it } from "vitest";
import { withRetries } from "./retry.ts";

const policy = { timeoutMs: 100, retries: 3, baseDelayMs: 10, maxDelayMs: 25 };

describe("withRetries", () => {
  it("retries a retryable failure up to `retries` times, sleeping a growing, capped backoff", async () => {
    const sleeps: number[] = [];
    let calls = 0;
    const hooks = { random: () => 1, sleep: async (ms: number) => void sleeps.push(ms) };
    const failing = async () => {
      calls++;
      throw new Error(`failure ${calls}`);
    };
    await expect(withRetries(policy, () => true, failing, hooks)).rejects.toThrow("failure 4");
    expect(calls).toBe(4);
    expect(sleeps).toEqual([10, 20, 25]);
  });

  it("returns the first success, and gives up at once on a failure that is not retryable", async () => {
    const hooks = { sleep: async () => {} };
    let calls = 0;
    const flaky = async () => (++calls < 2 ? Promise.reject(new Error("flaky")) : "ok");
    expect(await withRetries(policy, () => true, flaky, hooks)).toBe("ok");
    calls = 0;
    const broken = async () => Promise.reject(new Error(`broken ${++calls}`));
    await expect(withRetries(policy, () => false, broken, hooks)).rejects.toThrow("broken 1");
  });
});

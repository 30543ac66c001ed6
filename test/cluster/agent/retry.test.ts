import { describe, expect, it } from "vitest";
import { backoffMs, retryable, withRetry } from "./retry.ts";

describe("retry", () => {
  it("retries network errors, 429 and 5xx but not other client errors", () => {
    expect(retryable(new Error("ECONNREFUSED"))).toBe(true);
    expect(retryable({ code: 503 })).toBe(true);
    expect(retryable({ code: 429 })).toBe(true);
    expect(retryable({ code: 404 })).toBe(false);
    expect(retryable({ statusCode: 403 })).toBe(false);
  });

  it("draws the delay from a doubling window capped at maxMs", () => {
    const policy = { attempts: 5, baseMs: 100, maxMs: 1_000 };
    expect([0, 1, 2, 3, 4].map((a) => backoffMs(a, policy, () => 1))).toEqual([100, 200, 400, 800, 1_000]);
    expect(backoffMs(3, policy, () => 0)).toBe(0);
  });

  it("gives up after the last attempt with the last error", async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw Object.assign(new Error(`try ${calls}`), { code: 500 });
    };
    await expect(withRetry(fail, { attempts: 3, baseMs: 1, maxMs: 2 })).rejects.toThrow("try 3");
    expect(calls).toBe(3);
  });
});

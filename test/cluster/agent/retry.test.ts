import { describe, expect, it } from "vitest";
import { retryable, withRetry } from "./retry.ts";

describe("retry", () => {
  it("retries network errors, 429 and 5xx but not other client errors", () => {
    expect(retryable(new Error("ECONNREFUSED"))).toBe(true);
    expect(retryable({ code: 503 })).toBe(true);
    expect(retryable({ code: 429 })).toBe(true);
    expect(retryable({ code: 0 })).toBe(true);
    expect(retryable({ code: 404 })).toBe(false);
    expect(retryable({ statusCode: 403 })).toBe(false);
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

  it("answers a client error at once", async () => {
    let calls = 0;
    const fail = async () => {
      calls++;
      throw Object.assign(new Error("not found"), { code: 404 });
    };
    await expect(withRetry(fail, { attempts: 3, baseMs: 1, maxMs: 2 })).rejects.toThrow("not found");
    expect(calls).toBe(1);
  });
});

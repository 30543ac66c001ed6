import { describe, expect, it } from "vitest";
import {
  exitOutcome,
  KUBELET_BACKOFF,
  restartDelayMs,
  shouldRestart,
  terminationMessage,
} from "./lifecycle.ts";

describe("restart decisions", () => {
  it("restarts by policy and exit code", () => {
    expect([0, 1].map((c) => shouldRestart("Always", c))).toEqual([true, true]);
    expect([0, 1].map((c) => shouldRestart("OnFailure", c))).toEqual([false, true]);
    expect([0, 1].map((c) => shouldRestart("Never", c))).toEqual([false, false]);
  });

  it("backs off 0, 10 s, 20 s … capped at 5 min, and forgives a long run", () => {
    expect([0, 1, 2, 3, 10].map((n) => restartDelayMs(n, 1000, KUBELET_BACKOFF))).toEqual([
      0, 10_000, 20_000, 40_000, 300_000,
    ]);
    expect(restartDelayMs(5, 11 * 60_000, KUBELET_BACKOFF)).toBe(0);
  });

  it("reports signals as 128 + signal number", () => {
    expect(exitOutcome(null, "SIGKILL")).toEqual({ exitCode: 137, signal: 9, reason: "Error" });
    expect(exitOutcome(null, "SIGTERM")).toEqual({ exitCode: 143, signal: 15, reason: "Error" });
    expect(exitOutcome(0, null)).toEqual({ exitCode: 0, reason: "Completed" });
    expect(exitOutcome(3, null)).toEqual({ exitCode: 3, reason: "Error" });
  });

  it("takes the termination message from the file, or the log tail only with FallbackToLogsOnError", () => {
    expect(terminationMessage("train: no rows in window\n", "log", "File", 1)).toBe(
      "train: no rows in window",
    );
    expect(terminationMessage("", "a\nb\nboom\n", "File", 1)).toBeUndefined();
    expect(terminationMessage("", "a\nb\nboom\n", "FallbackToLogsOnError", 1)).toBe("a\nb\nboom");
    expect(terminationMessage("", "fine\n", "FallbackToLogsOnError", 0)).toBeUndefined();
    expect(terminationMessage("x".repeat(5000), "", "File", 1)?.length).toBe(4096);
  });
});

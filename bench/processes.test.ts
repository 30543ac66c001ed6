import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { cpuSecondsOfStat } from "./processes.ts";

describe("cpuSecondsOfStat", () => {
  it("adds user and system ticks, counting fields after a command name that holds spaces and parentheses", () => {
    const stat = "4242 (node (my) server) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 0 0 20 0 11 0 99";
    expect(cpuSecondsOfStat(stat)).toBeCloseTo(18.01, 10);
  });

  it("reads this process's own stat as at least the CPU it has used", () => {
    const used = process.cpuUsage();
    const fromStat = cpuSecondsOfStat(readFileSync("/proc/self/stat", "latin1"));
    expect(fromStat).toBeGreaterThanOrEqual((used.user + used.system) / 1e6 - 0.02);
  });

  it("refuses a text that is not a stat line", () => {
    expect(() => cpuSecondsOfStat("no such thing")).toThrow(/unreadable \/proc stat/);
  });
});

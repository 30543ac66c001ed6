import { existsSync } from "node:fs";
import { mkdir, mkdtemp, readFile, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { removeCreatedPaths } from "./cleanup.ts";

describe("cleanup of created mount points", () => {
  it("removes empty placeholders, keeps what someone else wrote, and remembers what it kept", async () => {
    const root = await mkdtemp(join(tmpdir(), "agent-cleanup-"));
    const p = (name: string) => join(root, name);
    await mkdir(p("secrets/sa"), { recursive: true });
    await writeFile(p("termination-log"), "");
    await writeFile(p("written"), "a trainer ran on the host");
    await mkdir(p("data"));
    await writeFile(p("data/foreign.csv"), "x");
    const registry = p("registry/created-paths");
    const legacy = p("legacy-created-paths");
    await mkdir(p("registry"));
    await writeFile(registry, [p("secrets"), p("secrets/sa"), p("termination-log"), p("written")].join("\n"));
    await writeFile(legacy, `${p("data")}\n${p("gone")}\n`);
    const leftovers: string[] = [];
    const kept: string[] = [];
    const removed = await removeCreatedPaths(registry, legacy, leftovers, kept);
    expect(removed).toBe(3);
    expect(existsSync(p("secrets")) || existsSync(p("termination-log"))).toBe(false);
    expect(kept).toEqual([
      `${p("data")} (someone else's files inside)`,
      `${p("written")} (written to by someone else)`,
    ]);
    expect(leftovers).toEqual([]);
    expect(await readFile(registry, "utf8")).toBe(`${p("written")}\n${p("data")}\n`);
    expect(existsSync(legacy)).toBe(false);
  });
});

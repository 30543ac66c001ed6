// make cluster-down leaves nothing behind: no process the cluster started, no pod network
// namespace, veth or bridge, no mount, no iptables chain or route of its own, no state directory.
// Runs last and only on the suite's own cluster (see vitest.config.ts); the global teardown's
// cluster-down then finds nothing to do.
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { readdir, readFile } from "node:fs/promises";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { e2eContext } from "../support/context.ts";

const run = promisify(execFile);
const repoRoot = resolve(import.meta.dirname, "../../..");
const BRIDGE = process.env.TM_AGENT_BRIDGE ?? "tm0";

/** Pids of live (non-zombie) processes whose command line mentions `text`. */
async function processesMentioning(text: string): Promise<string[]> {
  const found: string[] = [];
  for (const pid of await readdir("/proc")) {
    if (!/^\d+$/.test(pid) || pid === String(process.pid)) continue;
    try {
      const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8")).replaceAll("\0", " ");
      const stat = await readFile(`/proc/${pid}/stat`, "utf8");
      if (stat.charAt(stat.lastIndexOf(")") + 2) !== "Z" && cmdline.includes(text))
        found.push(`${pid}: ${cmdline}`);
    } catch {
      // The process ended while we looked.
    }
  }
  return found;
}

async function pidsOfCluster(clusterDir: string): Promise<number[]> {
  const dir = join(clusterDir, "pids");
  const files = (await readdir(dir)).filter((f) => f.endsWith(".pid"));
  return Promise.all(files.map(async (f) => Number((await readFile(join(dir, f), "utf8")).trim())));
}

function alive(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.charAt(stat.lastIndexOf(")") + 2) !== "Z";
  } catch {
    return false;
  }
}

describe("make cluster-down", () => {
  it("stops every process and removes every namespace, the bridge, mounts, rules and files of the cluster", async () => {
    const clusterDir = e2eContext().localClusterDir;
    const pids = await pidsOfCluster(clusterDir);
    expect(pids.length).toBeGreaterThan(4);
    expect(pids.filter(alive).length).toBe(pids.length);

    await run("make", ["--no-print-directory", "cluster-down"], { cwd: repoRoot, timeout: 120_000 });

    expect(pids.filter(alive)).toEqual([]);
    expect(await processesMentioning(clusterDir)).toEqual([]);
    expect(existsSync(clusterDir)).toBe(false);
    // Pod namespaces are named after the bridge; a pod's host-side veth goes with its namespace.
    const netns = (await run("ip", ["netns", "list"])).stdout;
    expect(netns.split("\n").filter((l) => l.startsWith(`${BRIDGE}-pod-`))).toEqual([]);
    const links = (await run("ip", ["-o", "link", "show"])).stdout;
    expect(links.split("\n").filter((l) => l.includes(` ${BRIDGE}:`))).toEqual([]);
    const mounts = await readFile("/proc/self/mountinfo", "utf8");
    expect(mounts.split("\n").filter((l) => l.includes(clusterDir))).toEqual([]);
    const rules = [
      (await run("iptables-save", ["-t", "nat"])).stdout,
      (await run("iptables-save", ["-t", "filter"])).stdout,
      (await run("iptables-save", ["-t", "mangle"])).stdout,
    ].join("\n");
    expect(rules.split("\n").filter((l) => /KUBE-|TM-BRIDGE-GUARD/.test(l))).toEqual([]);
    expect((await run("ip", ["route", "show", "type", "blackhole"])).stdout).not.toMatch(/10\.(96|244)\./);
  });
});

// Removes everything the agent made, driven by its state under .cluster/agent and by the names it
// uses (tm-pod-* namespaces, tmv* veths, the bridge, the tm-agent cgroup tree), so it also works
// after the agent crashed: processes, network namespaces, veths, bridge, mount points it created.
import { readdir, readFile, readlink, realpath, rm, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Layout } from "./layout.ts";
import { removeAllNetworking } from "./netlink.ts";
import type { NetworkConfig } from "./network.ts";
import { killCgroup, signalProcess } from "./runtime.ts";

export type CleanupReport = {
  /** Mount points agents created that are still in use or hold someone else's data: kept. */
  kept: string[];
  agentStopped: boolean;
  cgroups: number;
  netns: number;
  veths: number;
  paths: number;
  leftovers: string[];
};

async function isAgentProcess(pid: number): Promise<boolean> {
  try {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, "utf8");
    return cmdline.includes("agent/main.ts");
  } catch {
    return false;
  }
}

async function stopAgent(pidFile: string): Promise<boolean> {
  const pid = Number((await readFile(pidFile, "utf8").catch(() => "")).trim());
  if (!pid || pid === process.pid || !(await isAgentProcess(pid))) return false;
  signalProcess(pid, "SIGTERM");
  for (let i = 0; i < 50 && (await isAgentProcess(pid)); i++) await sleep(100);
  if (await isAgentProcess(pid)) signalProcess(pid, "SIGKILL");
  return true;
}

/** Kills and removes cgroups bottom-up; returns how many it removed. */
async function removeCgroupTree(dir: string): Promise<number> {
  try {
    await stat(dir);
  } catch {
    return 0;
  }
  let removed = 0;
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) removed += await removeCgroupTree(join(dir, e.name));
  }
  await killCgroup(dir);
  return removed + 1;
}

/**
 * Every mount point of every mount namespace on the machine. Removing a directory another
 * namespace mounts over would silently detach that mount (another agent's pod's token volume).
 */
async function mountPointsEverywhere(): Promise<Set<string>> {
  const seen = new Set<string>();
  const points = new Set<string>();
  for (const pid of (await readdir("/proc")).filter((p) => /^\d+$/.test(p))) {
    const ns = await readlink(`/proc/${pid}/ns/mnt`).catch(() => undefined);
    if (!ns || seen.has(ns)) continue;
    seen.add(ns);
    const info = await readFile(`/proc/${pid}/mountinfo`, "utf8").catch(() => "");
    for (const line of info.split("\n")) {
      const mountPoint = line.split(" ")[4];
      if (mountPoint) points.add(mountPoint);
    }
  }
  return points;
}

/**
 * Mount points agents created (the registry is shared by every agent on the machine; an agent of
 * an older version kept its own list in its state directory), newest first: removed when empty
 * and mounted nowhere. Those another agent's pods still mount over, or that someone else has
 * written into, are kept (and stay in the registry for a later cleanup); only failures to remove
 * are leftovers.
 */
export async function removeCreatedPaths(
  registry: string,
  legacy: string,
  leftovers: string[],
  kept: string[],
): Promise<number> {
  const read = async (f: string) => (await readFile(f, "utf8").catch(() => "")).split("\n").filter(Boolean);
  const paths = [...new Set([...(await read(registry)), ...(await read(legacy))])].reverse();
  const inUse = await mountPointsEverywhere();
  const keep: string[] = [];
  let removed = 0;
  for (const p of paths) {
    try {
      if (inUse.has(await realpath(p)) || keep.some((k) => k.startsWith(`${p}/`))) {
        keep.push(p);
        kept.push(`${p} (mounted by another agent's pod)`);
        continue;
      }
      const s = await stat(p);
      if (s.isDirectory()) await rmdir(p);
      else if (s.size === 0) await unlink(p);
      else {
        keep.push(p);
        kept.push(`${p} (written to by someone else)`);
        continue;
      }
      removed++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      if (code === "ENOTEMPTY") {
        keep.push(p);
        kept.push(`${p} (someone else's files inside)`);
        continue;
      }
      leftovers.push(`${p} (${code})`);
    }
  }
  await rm(legacy, { force: true });
  if (keep.length > 0) {
    await writeFile(registry, keep.toReversed().join("\n").concat("\n"));
    return removed;
  }
  await rm(registry, { force: true });
  await rmdir(dirname(registry)).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ENOENT" && err.code !== "ENOTEMPTY") throw err;
  });
  return removed;
}

export async function cleanup(layout: Layout, net: NetworkConfig): Promise<CleanupReport> {
  const agentStopped = await stopAgent(layout.pidFile);
  const cgroups = await removeCgroupTree(layout.cgroupRoot);
  const { netns, veths } = await removeAllNetworking(net);
  const leftovers: string[] = [];
  const kept: string[] = [];
  const legacy = join(layout.stateDir, "created-paths");
  const paths = await removeCreatedPaths(layout.createdPathsFile, legacy, leftovers, kept);
  await rm(layout.podsStateDir, { recursive: true, force: true });
  await rm(layout.pidFile, { force: true });
  return { agentStopped, cgroups, netns, veths, paths, kept, leftovers };
}

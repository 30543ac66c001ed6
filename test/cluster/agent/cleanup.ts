// Removes everything the agent made, driven by its state under .cluster/agent and by the names it
// uses (tm-pod-* namespaces, tmv* veths, the bridge, the tm-agent cgroup tree), so it also works
// after the agent crashed: processes, network namespaces, veths, bridge, mount points it created.
import { readdir, readFile, rm, rmdir, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import type { Layout } from "./layout.ts";
import { removeAllNetworking } from "./netlink.ts";
import type { NetworkConfig } from "./network.ts";
import { killCgroup, signalProcess } from "./runtime.ts";

export type CleanupReport = {
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

/** Mount points the agent created, newest first, removed only when still empty. */
async function removeCreatedPaths(file: string, leftovers: string[]): Promise<number> {
  const lines = (await readFile(file, "utf8").catch(() => "")).split("\n").filter(Boolean);
  const paths = [...new Set(lines)].reverse();
  let removed = 0;
  for (const p of paths) {
    try {
      const s = await stat(p);
      if (s.isDirectory()) await rmdir(p);
      else if (s.size === 0) await unlink(p);
      else {
        leftovers.push(`${p} (not empty)`);
        continue;
      }
      removed++;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "ENOENT") continue;
      leftovers.push(`${p} (${code})`);
    }
  }
  await rm(file, { force: true });
  return removed;
}

export async function cleanup(layout: Layout, net: NetworkConfig): Promise<CleanupReport> {
  const agentStopped = await stopAgent(layout.pidFile);
  const cgroups = await removeCgroupTree(layout.cgroupRoot);
  const { netns, veths } = await removeAllNetworking(net);
  const leftovers: string[] = [];
  const paths = await removeCreatedPaths(layout.createdPathsFile, leftovers);
  await rm(layout.podsStateDir, { recursive: true, force: true });
  await rm(layout.pidFile, { force: true });
  return { agentStopped, cgroups, netns, veths, paths, leftovers };
}

// Container processes: started through launch.sh inside the pod's namespaces, each in its own
// cgroup (v2) so that a kill reaches every process it forked and CPU time can be read.
import { spawn } from "node:child_process";
import { appendFile, mkdir, open, readFile, rmdir, stat, writeFile } from "node:fs/promises";
import { dirname, isAbsolute, join, relative } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import type { ContainerPlan, Mount } from "./plan.ts";

const LAUNCH = join(dirname(fileURLToPath(import.meta.url)), "launch.sh");

export type ExitInfo = { code: number | null; signal: NodeJS.Signals | null; at: Date };
export type ContainerProcess = { pid: number; startedAt: Date; exited: Promise<ExitInfo> };

async function pathExists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * Makes each mount target exist on the host (a bind mount needs one) and records what it created
 * so that cleanup can remove exactly that, deepest first, and only if empty.
 */
export async function prepareMountTargets(mounts: readonly Mount[], createdPathsFile: string): Promise<void> {
  await mkdir(dirname(createdPathsFile), { recursive: true });
  for (const m of mounts) {
    const isDir = (await stat(m.source)).isDirectory();
    const missing: string[] = [];
    for (let p = isDir ? m.target : dirname(m.target); !(await pathExists(p)); p = dirname(p))
      missing.unshift(p);
    for (const dir of missing) {
      await mkdir(dir, { recursive: true });
      await appendFile(createdPathsFile, `${dir}\n`);
    }
    if (!isDir && !(await pathExists(m.target))) {
      await writeFile(m.target, "", { flag: "a" });
      await appendFile(createdPathsFile, `${m.target}\n`);
    }
  }
}

/**
 * Parent mount points before the mounts inside them. Sources are relative to the pod directory,
 * which launch.sh makes its working directory first: a mount over an ancestor of the pod
 * directory (an emptyDir at /tmp while the state lives under /tmp) cannot hide them then.
 */
export function mountLines(mounts: readonly Mount[], baseDir: string): string {
  const depth = (p: string) => p.split("/").filter(Boolean).length;
  return [...mounts]
    .sort((a, b) => depth(a.target) - depth(b.target))
    .map((m) => {
      const source = relative(baseDir, m.source);
      if (source.startsWith("..") || isAbsolute(source)) {
        throw new Error(`mount source ${m.source} is outside the pod directory ${baseDir}`);
      }
      return `${m.readOnly ? "ro" : "rw"}\t${source}\t${m.target}\n`;
    })
    .join("");
}

export type StartOptions = {
  netns: string;
  /** The pod's directory: every mount source lies inside it. */
  podDir: string;
  plan: ContainerPlan;
  cgroup: string;
  /** Per-container-instance directory for the mounts list. */
  runDir: string;
  logFile: string;
};

export async function startContainer(o: StartOptions): Promise<ContainerProcess> {
  await mkdir(o.cgroup, { recursive: true });
  await mkdir(o.runDir, { recursive: true });
  await mkdir(dirname(o.logFile), { recursive: true });
  const mountsFile = join(o.runDir, "mounts");
  await writeFile(mountsFile, mountLines(o.plan.mounts, o.podDir));
  const log = await open(o.logFile, "a");
  const { uid, gid } = o.plan.user;
  const args = [
    ...[
      `--net=/run/netns/${o.netns}`,
      "--",
      "/usr/bin/unshare",
      "--mount",
      "--uts",
      "--propagation",
      "private",
      "--",
    ],
    ...[
      "/bin/sh",
      LAUNCH,
      o.cgroup,
      o.plan.hostname,
      o.podDir,
      mountsFile,
      o.plan.workingDir,
      String(uid),
      String(gid),
      "--",
    ],
    ...o.plan.argv,
  ];
  try {
    const child = spawn("/usr/bin/nsenter", args, {
      env: o.plan.env,
      stdio: ["ignore", log.fd, log.fd],
      detached: true,
    });
    const exited = new Promise<ExitInfo>((resolve) => {
      child.on("exit", (code, signal) => resolve({ code, signal, at: new Date() }));
    });
    const pid = await new Promise<number>((resolve, reject) => {
      child.once("spawn", () => resolve(child.pid ?? -1));
      child.once("error", reject);
    });
    child.unref();
    return { pid, startedAt: new Date(), exited };
  } finally {
    await log.close();
  }
}

export function signalProcess(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ESRCH") throw err;
  }
}

async function cgroupPids(cgroup: string): Promise<number[]> {
  try {
    const text = await readFile(join(cgroup, "cgroup.procs"), "utf8");
    return text.split("\n").filter(Boolean).map(Number);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}

/**
 * SIGKILLs every process in the cgroup, waits until it is empty and removes it. Killed processes
 * whose parent is gone wait as zombies for init, which reaps slowly on this VM; the cgroup stays
 * busy until then, so removal is retried until the deadline.
 */
export async function killCgroup(cgroup: string, timeoutMs = 15_000): Promise<void> {
  if (!(await pathExists(cgroup))) return;
  const deadline = Date.now() + timeoutMs;
  await writeFile(join(cgroup, "cgroup.kill"), "1");
  for (;;) {
    try {
      if ((await cgroupPids(cgroup)).length === 0) {
        await rmdir(cgroup);
        return;
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EBUSY") throw err;
    }
    if (Date.now() > deadline) throw new Error(`${cgroup}: still in use ${timeoutMs} ms after cgroup.kill`);
    await sleep(50);
  }
}

/** CPU time the cgroup's processes have used, in microseconds (cgroup v2 cpu.stat usage_usec). */
export async function cgroupCpuUsageUsec(cgroup: string): Promise<number | undefined> {
  try {
    const m = /^usage_usec (\d+)$/m.exec(await readFile(join(cgroup, "cpu.stat"), "utf8"));
    return m ? Number(m[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** Runs a command inside a running container's namespaces with its env (exec probes, preStop exec). */
export async function execInContainer(
  pid: number,
  command: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<{ exitCode: number; output: string }> {
  const child = spawn("/usr/bin/nsenter", ["-t", String(pid), "-m", "-n", "-u", "--", ...command], {
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let output = "";
  child.stdout.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr.on("data", (d: Buffer) => {
    output += d.toString();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  try {
    const exitCode = await new Promise<number>((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve(signal ? -1 : (code ?? -1)));
    });
    return { exitCode, output: output.slice(0, 10_240) };
  } finally {
    clearTimeout(timer);
  }
}

/** Resident memory of the cgroup's processes (the memory controller is cgroup v1 only here). */
export async function cgroupMemoryBytes(cgroup: string): Promise<number> {
  let total = 0;
  for (const pid of await cgroupPids(cgroup)) {
    const statm = await readFile(`/proc/${pid}/statm`, "utf8").catch(() => "");
    total += Number(statm.split(" ")[1] ?? 0) * 4096;
  }
  return total;
}

const USER_HZ = 100;

/** CPU time the whole machine has spent busy, from the first line of /proc/stat. */
export async function nodeCpuSeconds(): Promise<number> {
  const [, ...fields] = ((await readFile("/proc/stat", "utf8")).split("\n")[0] ?? "").trim().split(/\s+/);
  const [user, nice, system, , , irq, softirq, steal] = fields.map(Number);
  return ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) / USER_HZ;
}

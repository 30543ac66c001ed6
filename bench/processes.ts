/** Starting, pinning, waiting for and stopping the processes a benchmark runs. */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { closeSync, openSync, readFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** Core 0 runs the server under test, core 1 the load generator: the same for every stack. */
export const SERVER_CPU = 0;
export const CLIENT_CPU = 1;

export interface Service {
  name: string;
  url: string;
  /** CPU time the server's process has used so far, all its threads, user and system. */
  cpuSeconds(): number;
  stop(): Promise<void>;
}

/**
 * User plus system CPU seconds from the text of /proc/<pid>/stat. The fields count in USER_HZ
 * ticks, 100 a second on every Linux architecture; the command name, in parentheses, may hold
 * spaces, so the fields are counted from its closing one.
 */
export function cpuSecondsOfStat(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 of proc(5); the text after the name starts at field 3.
  const [utime, stime] = [Number(fields[11]), Number(fields[12])];
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unreadable /proc stat: ${stat}`);
  return (utime + stime) / 100;
}

/** CPU seconds process `pid` has used so far, all its threads, user and system. */
export function cpuSecondsOf(pid: number | undefined): number {
  return cpuSecondsOfStat(readFileSync(`/proc/${pid}/stat`, "latin1"));
}

/** A free port on 127.0.0.1 (asked from the kernel, then released for the server to take). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(0, "127.0.0.1", resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === "string") throw new Error("could not get a free port");
  return address.port;
}

async function waitForExit(child: ChildProcess, timeoutMs: number): Promise<boolean> {
  if (child.exitCode !== null || child.signalCode !== null) return true;
  const exited = new Promise<boolean>((resolve) => child.once("exit", () => resolve(true)));
  return Promise.race([exited, sleep(timeoutMs, false)]);
}

export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  if (!(await waitForExit(child, 10_000))) {
    child.kill("SIGKILL");
    await waitForExit(child, 5_000);
  }
}

/** Polls `readyUrl` until it answers 2xx; fails if the process exits first or `timeoutMs` pass. */
async function waitReady(
  child: ChildProcess,
  name: string,
  readyUrl: string,
  logPath: string,
  timeoutMs: number,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (let delay = 50; Date.now() < deadline; delay = Math.min(delay * 2, 500)) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `${name} exited (${child.exitCode ?? child.signalCode}) before it was ready; see ${logPath}`,
      );
    }
    try {
      const res = await fetch(readyUrl, { signal: AbortSignal.timeout(1_000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await sleep(delay);
  }
  throw new Error(`${name} was not ready at ${readyUrl} within ${timeoutMs / 1000} s; see ${logPath}`);
}

export interface ServiceSpec {
  name: string;
  command: string;
  args: string[];
  env?: Record<string, string>;
  port: number;
  readyPath: string;
  /** How long it may take to answer readyPath; 30 s unless said. */
  readyTimeoutMs?: number;
  /** Where the server's stdout and stderr go: a pipe nobody drains would stall a chatty server. */
  logDir: string;
}

/** Starts a server pinned to SERVER_CPU and resolves once it answers its readiness path. */
export async function startService(spec: ServiceSpec): Promise<Service> {
  const logPath = join(spec.logDir, `${spec.name}.log`);
  const log = openSync(logPath, "w");
  const child = spawn("taskset", ["-c", String(SERVER_CPU), spec.command, ...spec.args], {
    env: { ...process.env, ...spec.env },
    stdio: ["ignore", log, log],
  });
  closeSync(log);
  const url = `http://127.0.0.1:${spec.port}`;
  try {
    await waitReady(child, spec.name, `${url}${spec.readyPath}`, logPath, spec.readyTimeoutMs ?? 30_000);
  } catch (err) {
    await stopChild(child);
    throw err;
  }
  return {
    name: spec.name,
    url,
    // taskset execs the server, so the child's pid is the server's.
    cpuSeconds: () => cpuSecondsOf(child.pid),
    stop: () => stopChild(child),
  };
}

/** Runs a bounded client command pinned to CLIENT_CPU and returns its stdout. */
export async function runClient(
  command: string,
  args: string[],
  env: Record<string, string>,
  timeoutMs: number,
): Promise<string> {
  const { stdout } = await execFileAsync("taskset", ["-c", String(CLIENT_CPU), command, ...args], {
    env: { ...process.env, ...env },
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return stdout;
}

// Runs a throwaway control plane for the cluster's own tests: its own state directory and free
// loopback ports, so it never touches a developer's cluster in .cluster/.
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "../../bench/processes.ts";

const run = promisify(execFile);
const clusterScripts = import.meta.dirname;

export type ControlPlane = {
  stateDir: string;
  kubeconfig: string;
  pkiDir: string;
  apiserverPort: number;
  env: NodeJS.ProcessEnv;
};

export async function newControlPlane(): Promise<ControlPlane> {
  const stateDir = await mkdtemp(join(tmpdir(), "tm-cluster-test-"));
  // up.sh treats an existing state directory as leftovers and clears it; start from none.
  await rm(stateDir, { recursive: true });
  const [etcd, etcdPeer, apiserver, controllerManager, scheduler] = await Promise.all(
    Array.from({ length: 5 }, freePort),
  );
  return {
    stateDir,
    kubeconfig: join(stateDir, "kubeconfig"),
    pkiDir: join(stateDir, "pki"),
    apiserverPort: apiserver as number,
    env: {
      ...process.env,
      // The control plane alone: node agents and services are host-global (bridge, iptables).
      TM_NODE_AGENT: "0",
      TM_CLUSTER_DIR: stateDir,
      TM_ETCD_PORT: String(etcd),
      TM_ETCD_PEER_PORT: String(etcdPeer),
      TM_APISERVER_PORT: String(apiserver),
      TM_CONTROLLER_MANAGER_PORT: String(controllerManager),
      TM_SCHEDULER_PORT: String(scheduler),
    },
  };
}

export type Result = { code: number; stdout: string; stderr: string };

/** Runs a command to its end; a non-zero exit is a result, not an exception. */
export async function runCommand(
  file: string,
  args: string[],
  options: { env?: NodeJS.ProcessEnv; timeoutMs: number },
): Promise<Result> {
  try {
    const { stdout, stderr } = await run(file, args, {
      env: options.env,
      timeout: options.timeoutMs,
      maxBuffer: 16 * 1024 * 1024,
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code?: unknown; stdout?: string; stderr?: string; killed?: boolean };
    if (typeof failed.code !== "number") throw error;
    return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
  }
}

export function clusterScript(cluster: ControlPlane, script: "up" | "down" | "status"): Promise<Result> {
  return runCommand(join(clusterScripts, `${script}.sh`), [], { env: cluster.env, timeoutMs: 600_000 });
}

/** kubectl from the cluster's bin/ with the given kubeconfig (the admin one by default). */
export function kubectl(
  cluster: ControlPlane,
  args: string[],
  kubeconfig: string = cluster.kubeconfig,
): Promise<Result> {
  return runCommand(join(cluster.stateDir, "bin", "kubectl"), [`--kubeconfig=${kubeconfig}`, ...args], {
    timeoutMs: 60_000,
  });
}

/** Polls until check returns a value (not undefined) or the time is up. */
export async function eventually<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

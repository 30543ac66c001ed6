// Where the agent keeps things: state under .cluster/agent (read by cleanup after a crash),
// container logs under .cluster/logs/pods like the kubelet's /var/log/pods, cgroups under one root.
import { join } from "node:path";
import type { PodPaths } from "./plan.ts";

export type Layout = {
  clusterDir: string;
  /** cgroup v2 directory holding one cgroup per pod container, per bridge (agent instance). */
  cgroupRoot: string;
  stateDir: string;
  /**
   * Paths agents created on the host as mount points, one per line, removed by cleanup. One file
   * for the machine: agents side by side share mount points such as /dev/termination-log.
   */
  createdPathsFile: string;
  pidFile: string;
  podsStateDir: string;
  logsDir: string;
};

export function layout(clusterDir: string, bridge: string): Layout {
  const stateDir = join(clusterDir, "agent");
  return {
    clusterDir,
    cgroupRoot: join("/sys/fs/cgroup/unified/tm-agent", bridge),
    stateDir,
    createdPathsFile: "/run/tm-agent/created-paths",
    pidFile: join(stateDir, "agent.pid"),
    podsStateDir: join(stateDir, "pods"),
    logsDir: join(clusterDir, "logs", "pods"),
  };
}

export function podDir(l: Layout, podUID: string): string {
  return join(l.podsStateDir, podUID);
}

export function podPaths(l: Layout, podUID: string): PodPaths {
  const dir = podDir(l, podUID);
  return {
    volumeDir: (v) => join(dir, "volumes", v),
    containerDir: (c) => join(dir, "containers", c),
    etcFile: (f) => join(dir, "etc", f),
  };
}

/** .cluster/logs/pods/<namespace>_<name>_<uid>/<container>/<restartCount>.log */
export function containerLogFile(
  l: Layout,
  ns: string,
  pod: string,
  uid: string,
  container: string,
  restart: number,
): string {
  return join(l.logsDir, `${ns}_${pod}_${uid}`, container, `${restart}.log`);
}

export function containerCgroup(l: Layout, podUID: string, container: string): string {
  return join(l.cgroupRoot, podUID, container);
}

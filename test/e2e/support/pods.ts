// Reading pods as a test needs them: ready pods of a selector, and container logs.

import { readdir, readFile } from "node:fs/promises";
import { join } from "node:path";
import type { V1Pod } from "@kubernetes/client-node";
import { e2eContext } from "./context.ts";
import { getJson, kubectl } from "./kubectl.ts";

export function isReady(pod: V1Pod): boolean {
  return (
    pod.metadata?.deletionTimestamp === undefined &&
    (pod.status?.conditions ?? []).some((c) => c.type === "Ready" && c.status === "True")
  );
}

export async function pods(namespace: string, selector: string): Promise<V1Pod[]> {
  return (await getJson<{ items: V1Pod[] }>(["pods", "-n", namespace, "-l", selector])).items;
}

export async function readyPods(namespace: string, selector: string): Promise<V1Pod[]> {
  return (await pods(namespace, selector)).filter(isReady);
}

/**
 * A container's log: `kubectl logs` where the node serves logs; on the local cluster, whose node
 * agent has no kubelet log endpoint yet, the file the agent writes (.cluster/logs/pods/…).
 */
export async function containerLog(namespace: string, pod: string, container: string): Promise<string> {
  try {
    return await kubectl(["logs", "-n", namespace, pod, "-c", container]);
  } catch (err) {
    const clusterDir = e2eContext().localClusterDir;
    if (!clusterDir) throw err;
    const uid = (await getJson<V1Pod>(["pod", "-n", namespace, pod])).metadata?.uid;
    const dir = join(clusterDir, "logs", "pods", `${namespace}_${pod}_${uid}`, container);
    const files = (await readdir(dir)).filter((f) => f.endsWith(".log"));
    const latest = files.sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10)).at(-1);
    if (!latest) throw new Error(`${dir} holds no log file`);
    return await readFile(join(dir, latest), "utf8");
  }
}

// The Node object and status the agent posts for each node it plays, as a kubelet would.
import type { V1Node } from "@kubernetes/client-node";
import { k8sTime } from "./status.ts";

export type NodeFacts = {
  name: string;
  podCIDR: string;
  /** The host's address on the pod bridge: the node's InternalIP. */
  internalIP: string;
  cpu: number;
  memoryBytes: number;
  /** Size of the root filesystem, where pods' files live. */
  ephemeralStorageBytes: number;
  maxPods: number;
  kubeletVersion: string;
  kernelVersion: string;
  osImage: string;
  architecture: string;
  /** Port of the agent's kubelet API for this node (containerLogs, stats). */
  kubeletPort: number;
};

export function nodeObject(f: NodeFacts): V1Node {
  return {
    apiVersion: "v1",
    kind: "Node",
    metadata: {
      name: f.name,
      labels: {
        "kubernetes.io/hostname": f.name,
        "kubernetes.io/os": "linux",
        "kubernetes.io/arch": f.architecture,
        "node.kubernetes.io/instance-type": "tm-agent",
      },
    },
    spec: { podCIDR: f.podCIDR, podCIDRs: [f.podCIDR] },
  };
}

const READY_CONDITIONS = [
  ["MemoryPressure", "KubeletHasSufficientMemory", "kubelet has sufficient memory available"],
  ["DiskPressure", "KubeletHasNoDiskPressure", "kubelet has no disk pressure"],
  ["PIDPressure", "KubeletHasSufficientPID", "kubelet has sufficient PID available"],
] as const;

/** Node status: capacity, allocatable, the InternalIP only (no Hostname address: it does not resolve), Ready. */
export function nodeStatus(f: NodeFacts, readySince: Date, now: Date): Record<string, unknown> {
  const resources = {
    cpu: String(f.cpu),
    memory: `${Math.floor(f.memoryBytes / 1024)}Ki`,
    "ephemeral-storage": `${Math.floor(f.ephemeralStorageBytes / 1024)}Ki`,
    pods: String(f.maxPods),
  };
  const heartbeat = k8sTime(now);
  const since = k8sTime(readySince);
  return {
    capacity: resources,
    allocatable: resources,
    addresses: [{ type: "InternalIP", address: f.internalIP }],
    daemonEndpoints: { kubeletEndpoint: { Port: f.kubeletPort } },
    conditions: [
      ...READY_CONDITIONS.map(([type, reason, message]) => ({
        type,
        status: "False",
        reason,
        message,
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: since,
      })),
      {
        type: "Ready",
        status: "True",
        reason: "KubeletReady",
        message: "tm-agent is posting ready status",
        lastHeartbeatTime: heartbeat,
        lastTransitionTime: since,
      },
    ],
    nodeInfo: {
      machineID: f.name,
      systemUUID: f.name,
      bootID: since,
      kernelVersion: f.kernelVersion,
      osImage: f.osImage,
      containerRuntimeVersion: "tm-agent://0.1.0",
      kubeletVersion: f.kubeletVersion,
      operatingSystem: "linux",
      architecture: f.architecture,
    },
  };
}

/** os.arch() → GOARCH names. */
export function goArch(arch: string): string {
  return ({ x64: "amd64", arm64: "arm64", ia32: "386" } as Record<string, string>)[arch] ?? arch;
}

// The metrics.k8s.io/v1beta1 objects the HPA and `kubectl top` read, from CPU-time samples of the
// containers' cgroups: usage is the rate between the last two samples, as metrics-server reports.
export type CpuSample = { at: number; usec: number };

export type ContainerMetrics = { name: string; cpuCores: number; memoryBytes: number };

export type PodMetricsInput = {
  namespace: string;
  name: string;
  labels: Record<string, string>;
  containers: ContainerMetrics[];
};

/** CPU cores used between two samples of the same container, or undefined with one sample. */
export function cpuRate(previous: CpuSample | undefined, current: CpuSample): number | undefined {
  if (!previous || current.at <= previous.at || current.usec < previous.usec) return undefined;
  return (current.usec - previous.usec) / 1e6 / ((current.at - previous.at) / 1000);
}

function usage(cpuCores: number, memoryBytes: number) {
  return { cpu: `${Math.round(cpuCores * 1e9)}n`, memory: `${Math.round(memoryBytes / 1024)}Ki` };
}

export function podMetrics(p: PodMetricsInput, timestamp: Date, windowSeconds: number) {
  return {
    kind: "PodMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: {
      name: p.name,
      namespace: p.namespace,
      labels: p.labels,
      creationTimestamp: timestamp.toISOString(),
    },
    timestamp: timestamp.toISOString(),
    window: `${windowSeconds}s`,
    containers: p.containers.map((c) => ({ name: c.name, usage: usage(c.cpuCores, c.memoryBytes) })),
  };
}

export function nodeMetrics(
  name: string,
  cpuCores: number,
  memoryBytes: number,
  timestamp: Date,
  windowSeconds: number,
) {
  return {
    kind: "NodeMetrics",
    apiVersion: "metrics.k8s.io/v1beta1",
    metadata: { name, creationTimestamp: timestamp.toISOString() },
    timestamp: timestamp.toISOString(),
    window: `${windowSeconds}s`,
    usage: usage(cpuCores, memoryBytes),
  };
}

export const API_RESOURCES = {
  kind: "APIResourceList",
  apiVersion: "v1",
  groupVersion: "metrics.k8s.io/v1beta1",
  resources: [
    { name: "nodes", singularName: "", namespaced: false, kind: "NodeMetrics", verbs: ["get", "list"] },
    { name: "pods", singularName: "", namespaced: true, kind: "PodMetrics", verbs: ["get", "list"] },
  ],
};

type Requirement = (labels: Record<string, string>) => boolean;

/** A label selector in its string form ("app=web,tier in (a,b),!canary"), as the HPA sends it. */
export function parseLabelSelector(selector: string): Requirement {
  const parts = selector.match(/(?:[^,(]|\([^)]*\))+/g) ?? [];
  const requirements = parts.map((raw): Requirement => {
    const part = raw.trim();
    let m = /^([\w./-]+)\s*(==|=|!=)\s*([\w.-]*)$/.exec(part);
    if (m) {
      const [, key = "", op, value = ""] = m;
      return op === "!=" ? (l) => l[key] !== value : (l) => l[key] === value;
    }
    m = /^([\w./-]+)\s+(in|notin)\s+\(([^)]*)\)$/.exec(part);
    if (m) {
      const [, key = "", op, list = ""] = m;
      const values = list.split(",").map((v) => v.trim());
      return op === "in"
        ? (l) => l[key] !== undefined && values.includes(l[key] ?? "")
        : (l) => l[key] === undefined || !values.includes(l[key] ?? "");
    }
    m = /^(!?)([\w./-]+)$/.exec(part);
    if (m) {
      const [, not, key = ""] = m;
      return not ? (l) => !(key in l) : (l) => key in l;
    }
    throw new Error(`labelSelector: cannot parse "${part}"`);
  });
  return (labels) => requirements.every((r) => r(labels));
}

// The kubelet's /metrics/resource in Prometheus text format, which metrics-server scrapes to serve
// the metrics.k8s.io API the HPA reads: cumulative CPU seconds and working-set bytes per container
// and node, each sample with its timestamp.
export type ContainerUsage = {
  namespace: string;
  pod: string;
  container: string;
  cpuSeconds: number;
  memoryBytes: number;
  startedAt: Date;
};

export type NodeUsage = { cpuSeconds: number; memoryBytes: number };

function labels(c: ContainerUsage): string {
  const esc = (v: string) => v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
  return `{container="${esc(c.container)}",namespace="${esc(c.namespace)}",pod="${esc(c.pod)}"}`;
}

export function resourceMetricsText(
  node: NodeUsage,
  containers: readonly ContainerUsage[],
  now: Date,
): string {
  const ts = now.getTime();
  const lines: string[] = [];
  const family = (name: string, type: string, help: string, samples: string[]) => {
    lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples);
  };
  family(
    "container_cpu_usage_seconds_total",
    "counter",
    "[STABLE] Cumulative cpu time consumed by the container in core-seconds",
    containers.map((c) => `container_cpu_usage_seconds_total${labels(c)} ${c.cpuSeconds} ${ts}`),
  );
  family(
    "container_memory_working_set_bytes",
    "gauge",
    "[STABLE] Current working set of the container in bytes",
    containers.map((c) => `container_memory_working_set_bytes${labels(c)} ${c.memoryBytes} ${ts}`),
  );
  family(
    "container_start_time_seconds",
    "gauge",
    "[STABLE] Start time of the container since unix epoch in seconds",
    containers.map((c) => `container_start_time_seconds${labels(c)} ${c.startedAt.getTime() / 1000} ${ts}`),
  );
  family(
    "node_cpu_usage_seconds_total",
    "counter",
    "[STABLE] Cumulative cpu time consumed by the node in core-seconds",
    [`node_cpu_usage_seconds_total ${node.cpuSeconds} ${ts}`],
  );
  family("node_memory_working_set_bytes", "gauge", "[STABLE] Current working set of the node in bytes", [
    `node_memory_working_set_bytes ${node.memoryBytes} ${ts}`,
  ]);
  family(
    "scrape_error",
    "gauge",
    "[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise",
    ["scrape_error 0"],
  );
  return `${lines.join("\n")}\n`;
}
